namespace Advantage.Environments.Tests;

/// <summary>ClipAction and FrameStack around scripted environments.</summary>
public class WrapperTests
{
    /// <summary>A Box-action double that records the action it was stepped with.</summary>
    private sealed class RecordingBoxEnvironment : IEnvironment
    {
        public Space ObservationSpace { get; } = Box.Uniform([1], -10f, 10f);

        public Space ActionSpace { get; } = new Box([3], [-1f, 0f, -2f], [1f, 0.5f, 2f]);

        public float[] LastAction { get; } = new float[3];

        public int? LastSeed { get; private set; }

        public void Reset(int? seed, Span<float> observation)
        {
            LastSeed = seed;
            observation[0] = 7f;
        }

        public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
        {
            action.CopyTo(LastAction);
            observation[0] = action[0];
            return new StepResult(1.5, false, true);
        }
    }

    [Fact]
    public void ClipActionClipsEachDimensionToItsBoundsAndPassesTheRestThrough()
    {
        var inner = new RecordingBoxEnvironment();
        var env = new ClipAction(inner);
        Assert.Same(inner.ActionSpace, env.ActionSpace);
        Assert.Same(inner.ObservationSpace, env.ObservationSpace);
        var obs = new float[1];
        env.Reset(5, obs);
        Assert.Equal(5, inner.LastSeed);
        Assert.Equal(7f, obs[0]);

        float[] action = [3f, -0.25f, 1.5f];
        Assert.Equal(new StepResult(1.5, false, true), env.Step(action, obs));
        Assert.Equal([1f, 0f, 1.5f], inner.LastAction);
        Assert.Equal([3f, -0.25f, 1.5f], action); // the caller's action is untouched
        Assert.Equal(1f, obs[0]);

        env.Step([-5f, 0.75f, float.NegativeInfinity], obs);
        Assert.Equal([-1f, 0.5f, -2f], inner.LastAction);

        env.Step([float.NaN, 0.25f, 0f], obs);
        Assert.True(float.IsNaN(inner.LastAction[0])); // NaN passes through, as NumPy's clip
    }

    [Fact]
    public void ClipActionRejectsDiscreteSpacesAndWrongLengths()
    {
        Assert.Throws<ArgumentException>(() => new ClipAction(new ScriptedEnvironment(3)));
        var env = new ClipAction(new RecordingBoxEnvironment());
        env.Reset(null, new float[1]);
        Assert.Throws<ArgumentException>(() => env.Step(new float[2], new float[1]));
    }

    [Fact]
    public void ClipActionOnPendulumStepsAsTheClippedAction()
    {
        var clipped = new ClipAction(new Pendulum());
        var plain = new Pendulum();
        var a = new float[3];
        var b = new float[3];
        clipped.Reset(4, a);
        plain.Reset(4, b);
        for (int t = 0; t < 20; t++)
        {
            StepResult ra = clipped.Step([t % 2 == 0 ? 10f : -10f], a);
            StepResult rb = plain.Step([t % 2 == 0 ? 2f : -2f], b);
            Assert.Equal(rb, ra);
            Assert.Equal(b, a);
        }
    }

    [Fact]
    public void FrameStackStacksOldestFirstAndFillsOnReset()
    {
        var env = new FrameStack(new ScriptedEnvironment(episodeLength: 100), 3);
        Assert.Equal(Box.Uniform([3, 2], -1e6f, 1e6f), env.ObservationSpace);
        Assert.Equal(new Discrete(2), env.ActionSpace);
        Assert.Equal(3, env.K);
        var obs = new float[6];
        env.Reset(2, obs); // scripted observation: [start, step] with start = 2000
        Assert.Equal([2000f, 0f, 2000f, 0f, 2000f, 0f], obs);
        Assert.Equal(new StepResult(1, false, false), env.Step([0f], obs));
        Assert.Equal([2000f, 0f, 2000f, 0f, 2000f, 1f], obs);
        env.Step([0f], obs);
        Assert.Equal([2000f, 0f, 2000f, 1f, 2000f, 2f], obs);
        obs.AsSpan().Fill(-1f); // the caller may scribble on its buffer (normalise in place)
        env.Step([0f], obs);
        Assert.Equal([2000f, 1f, 2000f, 2f, 2000f, 3f], obs);
        env.Step([0f], obs);
        Assert.Equal([2000f, 2f, 2000f, 3f, 2000f, 4f], obs);

        env.Reset(null, obs); // next episode: start 2001, the stack forgets the old one
        Assert.Equal([2001f, 0f, 2001f, 0f, 2001f, 0f], obs);
        env.Step([1f], obs);
        Assert.Equal([2001f, 0f, 2001f, 0f, 2001f, 1f], obs);
    }

    [Fact]
    public void FrameStackOfOneIsTheInnerObservationWithALeadingAxis()
    {
        var env = new FrameStack(new ScriptedEnvironment(5), 1);
        Assert.Equal(Box.Uniform([1, 2], -1e6f, 1e6f), env.ObservationSpace);
        var obs = new float[2];
        env.Reset(1, obs);
        env.Step([0f], obs);
        env.Step([0f], obs);
        Assert.Equal([1000f, 2f], obs);
    }

    [Fact]
    public void FrameStackRepeatsBoundsPerFrameAndStacksMinAtarFrames()
    {
        var env = new FrameStack(new Pendulum(), 2);
        var box = Assert.IsType<Box>(env.ObservationSpace);
        Assert.Equal([2, 3], box.Shape);
        Assert.Equal([-1f, -1f, -8f, -1f, -1f, -8f], box.Low);

        var breakout = new FrameStack(new MinAtarBreakout(), 4);
        Assert.Equal([4, 4, 10, 10], ((Box)breakout.ObservationSpace).Shape);
        Assert.Throws<ArgumentException>(() => new FrameStack(new DiscreteObservationEnvironment(), 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrameStack(new Pendulum(), 0));
        Assert.Throws<ArgumentException>(() => env.Reset(0, new float[3]));
    }

    [Fact]
    public void FrameStackWorksInsideAVectorEnvironmentWithAutoreset()
    {
        var vector = new VectorEnvironment([new FrameStack(new ScriptedEnvironment(2), 2), new FrameStack(new ScriptedEnvironment(3), 2)]);
        vector.Reset(1); // starts 1000 and 2000
        vector.Step([0f, 0f]);
        Assert.Equal([1000f, 0f, 1000f, 1f, 2000f, 0f, 2000f, 1f], vector.Observations.ToArray());
        vector.Step([0f, 0f]); // env 0 terminates and resets (start 1001)
        Assert.Equal([1000f, 1f, 1000f, 2f], vector.FinalObservations[..4].ToArray());
        Assert.Equal([1001f, 0f, 1001f, 0f, 2000f, 1f, 2000f, 2f], vector.Observations.ToArray());
    }

    [Fact]
    public void WrappersStepWithoutAllocating()
    {
        var stacked = new FrameStack(new MinAtarBreakout(), 4);
        var clipped = new ClipAction(new Pendulum());
        var s = new float[1600];
        var c = new float[3];
        var discrete = new float[1];
        var continuous = new float[1];
        void Run(int steps)
        {
            for (int t = 0; t < steps; t++)
            {
                discrete[0] = t % 3;
                continuous[0] = (t % 7 - 3) * 1.5f;
                if (stacked.Step(discrete, s).IsFinished) stacked.Reset(null, s);
                clipped.Step(continuous, c);
            }
        }
        stacked.Reset(0, s);
        clipped.Reset(0, c);
        Run(1_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(5_000);
        stacked.Reset(1, s);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private sealed class DiscreteObservationEnvironment : IEnvironment
    {
        public Space ObservationSpace { get; } = new Discrete(4);
        public Space ActionSpace { get; } = new Discrete(2);
        public void Reset(int? seed, Span<float> observation) => observation[0] = 0;
        public StepResult Step(ReadOnlySpan<float> action, Span<float> observation) => default;
    }
}
