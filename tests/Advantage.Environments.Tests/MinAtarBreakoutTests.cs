using Xunit.Abstractions;

namespace Advantage.Environments.Tests;

/// <summary>Hand-built MinAtar Breakout scenarios: every rule of breakout.py in isolation.</summary>
public class MinAtarBreakoutTests(ITestOutputHelper output)
{
    private const int UpLeft = 0, UpRight = 1, DownRight = 2, DownLeft = 3;
    private static readonly MinAtarOptions NotSticky = new(0.0);

    /// <summary>A game state in GetState's order; bricks given as (x, y) cells.</summary>
    internal static double[] State(int ballX, int ballY, int direction, int paddle, int? trailX = null, int? trailY = null,
        bool strike = false, bool terminal = false, int lastAction = 0, IEnumerable<(int X, int Y)>? bricks = null)
    {
        var state = new double[MinAtarBreakout.StateLength];
        state[0] = ballX;
        state[1] = ballY;
        state[2] = direction;
        state[3] = paddle;
        state[4] = trailX ?? ballX;
        state[5] = trailY ?? ballY;
        state[6] = strike ? 1 : 0;
        state[7] = terminal ? 1 : 0;
        state[8] = lastAction;
        foreach ((int x, int y) in bricks ?? []) state[9 + y * 10 + x] = 1;
        return state;
    }

    private static IEnumerable<(int X, int Y)> FullWall() =>
        from y in Enumerable.Range(1, 3) from x in Enumerable.Range(0, 10) select (x, y);

    private static (MinAtarBreakout Env, float[] Obs) Game(double[] state, MinAtarOptions? options = null)
    {
        var env = new MinAtarBreakout(options ?? NotSticky);
        var obs = new float[400];
        env.Reset(0, obs);
        env.SetState(state);
        return (env, obs);
    }

    private static StepResult Act(MinAtarBreakout env, float[] obs, int action) => env.Step([action], obs);

    private static float Cell(float[] obs, int channel, int x, int y) => obs[channel * 100 + y * 10 + x];

    private static (int X, int Y, int Dir, int Paddle) Ball(MinAtarBreakout env)
    {
        double[] s = env.GetState();
        return ((int)s[0], (int)s[1], (int)s[2], (int)s[3]);
    }

    [Fact]
    public void SpacesAreChannelMajorBinaryGridAndMinimalActionSet()
    {
        var env = new MinAtarBreakout();
        Assert.Equal(Box.Uniform([4, 10, 10], 0f, 1f), env.ObservationSpace);
        Assert.Equal(new Discrete(3), env.ActionSpace);
        Assert.Equal(0.1, env.Options.StickyActionProbability);
        Assert.Equal(0.1, MinAtarOptions.Default.StickyActionProbability);
    }

    [Fact]
    public void ResetPutsTheBallOnRowThreeAtAnEdgeHeadingInwardAndDownWithAFullWall()
    {
        var env = new MinAtarBreakout();
        var obs = new float[400];
        var starts = new HashSet<(int, int, int)>();
        for (int seed = 0; seed < 64; seed++)
        {
            env.Reset(seed, obs);
            (int x, int y, int dir, int paddle) = Ball(env);
            starts.Add((x, y, dir));
            Assert.Equal(3, y);
            Assert.Equal(4, paddle);
            Assert.True((x, dir) is (0, DownRight) or (9, DownLeft), $"start ({x}, {dir})");
            Assert.Equal(30, env.BricksLeft);
            // Observation: paddle at (4, 9); ball and trail on the same start cell; bricks rows 1-3.
            Assert.Equal(1f, Cell(obs, MinAtarBreakout.PaddleChannel, 4, 9));
            Assert.Equal(1f, Cell(obs, MinAtarBreakout.BallChannel, x, 3));
            Assert.Equal(1f, Cell(obs, MinAtarBreakout.TrailChannel, x, 3));
            for (int cy = 0; cy < 10; cy++)
                for (int cx = 0; cx < 10; cx++)
                    Assert.Equal(cy is >= 1 and <= 3 ? 1f : 0f, Cell(obs, MinAtarBreakout.BrickChannel, cx, cy));
            Assert.Equal(33f, obs.Sum());
        }
        Assert.Equal(2, starts.Count);
    }

    [Theory]
    [InlineData(9, 5, DownRight, 9, 6, DownLeft)] // right wall: the ball stays in column 9 and turns
    [InlineData(0, 5, DownLeft, 0, 6, DownRight)] // left wall
    [InlineData(9, 6, UpRight, 9, 5, UpLeft)]
    [InlineData(4, 0, UpLeft, 3, 0, DownLeft)] // ceiling: the ball stays on row 0 and turns down
    [InlineData(0, 0, UpLeft, 0, 0, DownRight)] // corner: both reflections, the ball stays put
    [InlineData(5, 5, UpRight, 6, 4, UpRight)] // free flight
    public void BallReflectsOffWallsAndCeiling(int x, int y, int dir, int nx, int ny, int ndir)
    {
        (MinAtarBreakout env, float[] obs) = Game(State(x, y, dir, paddle: 4));
        StepResult r = Act(env, obs, MinAtarBreakout.NoOp);
        Assert.Equal((nx, ny, ndir, 4), Ball(env));
        Assert.Equal(new StepResult(0, false, false), r);
        Assert.Equal(1f, Cell(obs, MinAtarBreakout.BallChannel, nx, ny));
        Assert.Equal(1f, Cell(obs, MinAtarBreakout.TrailChannel, x, y));
        Assert.Equal(3f, obs.Sum()); // paddle, ball, trail; no bricks
    }

    [Fact]
    public void HittingABrickPaysOneRemovesItAndReflectsTheBallOnItsRow()
    {
        (MinAtarBreakout env, float[] obs) = Game(State(5, 5, UpRight, 4, bricks: [(6, 4), (7, 4)]));
        StepResult r = Act(env, obs, MinAtarBreakout.NoOp);
        Assert.Equal(new StepResult(1, false, false), r);
        Assert.Equal((6, 5, DownRight, 4), Ball(env)); // new x, old row, vertical reflection
        Assert.Equal(1, env.BricksLeft);
        Assert.Equal(0f, Cell(obs, MinAtarBreakout.BrickChannel, 6, 4));
        Assert.Equal(1f, Cell(obs, MinAtarBreakout.BrickChannel, 7, 4));
        Assert.Equal(1.0, env.GetState()[6]); // strike flag set
        Assert.Equal(new StepResult(0, false, false), Act(env, obs, MinAtarBreakout.NoOp));
        Assert.Equal(0.0, env.GetState()[6]); // cleared by a step without a brick
    }

    [Fact]
    public void ABrickEnteredRightAfterAStrikeIsPassedThrough()
    {
        // As MinAtar: the strike flag is still set, so the ball enters the brick's cell and nothing breaks.
        (MinAtarBreakout env, float[] obs) = Game(State(5, 5, UpRight, 4, strike: true, bricks: [(6, 4)]));
        StepResult r = Act(env, obs, MinAtarBreakout.NoOp);
        Assert.Equal(0.0, r.Reward);
        Assert.Equal((6, 4, UpRight, 4), Ball(env));
        Assert.Equal(1, env.BricksLeft);
        Assert.Equal(1.0, env.GetState()[6]);
        Assert.Equal(1f, Cell(obs, MinAtarBreakout.BallChannel, 6, 4));
        Assert.Equal(1f, Cell(obs, MinAtarBreakout.BrickChannel, 6, 4));
    }

    [Fact]
    public void PaddleUnderThePreviousColumnBouncesTheBallStraightUp()
    {
        (MinAtarBreakout env, float[] obs) = Game(State(4, 8, DownRight, 4, bricks: [(0, 1)]));
        Assert.Equal(new StepResult(0, false, false), Act(env, obs, MinAtarBreakout.NoOp));
        Assert.Equal((5, 8, UpRight, 4), Ball(env));
    }

    [Fact]
    public void PaddleUnderTheNewColumnBouncesTheBallBack()
    {
        (MinAtarBreakout env, float[] obs) = Game(State(3, 8, DownRight, 4, bricks: [(0, 1)]));
        Assert.Equal(new StepResult(0, false, false), Act(env, obs, MinAtarBreakout.NoOp));
        Assert.Equal((4, 8, UpLeft, 4), Ball(env));
    }

    [Fact]
    public void ThePaddleMovesBeforeTheBallIsChecked()
    {
        (MinAtarBreakout env, float[] obs) = Game(State(4, 8, DownLeft, 5, bricks: [(0, 1)]));
        Assert.False(Act(env, obs, MinAtarBreakout.Left).Terminated);
        Assert.Equal((3, 8, UpLeft, 4), Ball(env));
        Assert.Equal(1f, Cell(obs, MinAtarBreakout.PaddleChannel, 4, 9));
    }

    [Theory]
    [InlineData(0, MinAtarBreakout.Left, 0)]
    [InlineData(9, MinAtarBreakout.Right, 9)]
    [InlineData(5, MinAtarBreakout.Right, 6)]
    [InlineData(5, MinAtarBreakout.Left, 4)]
    [InlineData(5, MinAtarBreakout.NoOp, 5)]
    public void ThePaddleMovesOneCellAndStopsAtTheWalls(int paddle, int action, int expected)
    {
        (MinAtarBreakout env, float[] obs) = Game(State(5, 5, UpRight, paddle));
        Act(env, obs, action);
        Assert.Equal(expected, Ball(env).Paddle);
    }

    [Fact]
    public void MissingTheBallTerminatesWithTheBallOnTheBottomRow()
    {
        (MinAtarBreakout env, float[] obs) = Game(State(1, 8, DownLeft, 5, bricks: [(0, 1)]));
        Assert.Equal(new StepResult(0, true, false), Act(env, obs, MinAtarBreakout.NoOp));
        Assert.Equal((0, 9, DownLeft, 5), Ball(env));
        Assert.Equal(1f, Cell(obs, MinAtarBreakout.BallChannel, 0, 9));

        // As MinAtar: stepping on changes nothing and reports termination again.
        double[] before = env.GetState();
        Assert.Equal(new StepResult(0, true, false), Act(env, obs, MinAtarBreakout.Right));
        Assert.Equal(before[..8], env.GetState()[..8]);
    }

    [Fact]
    public void AClearedWallIsRefilledWhenTheBallNextReachesTheBottomRow()
    {
        (MinAtarBreakout env, float[] obs) = Game(State(4, 6, DownRight, 6));
        Assert.Equal(0, env.BricksLeft);
        Act(env, obs, MinAtarBreakout.NoOp); // row 7: not yet
        Assert.Equal(0, env.BricksLeft);
        Act(env, obs, MinAtarBreakout.NoOp); // row 8
        Assert.Equal(0, env.BricksLeft);
        Assert.False(Act(env, obs, MinAtarBreakout.NoOp).Terminated); // reaches row 9 above the paddle: refill
        Assert.Equal(30, env.BricksLeft);
        Assert.Equal(30f, obs.AsSpan(300, 100).ToArray().Sum());
    }

    [Fact]
    public void TheLastBrickThenAFullRefillKeepsPaying()
    {
        // Break the last brick, return the ball, and see the refill; rewards keep coming after it.
        (MinAtarBreakout env, float[] obs) = Game(State(5, 4, UpRight, 4, bricks: [(6, 3)]));
        Assert.Equal(1.0, Act(env, obs, MinAtarBreakout.NoOp).Reward);
        Assert.Equal(0, env.BricksLeft);
        double total = 0;
        for (int t = 0; t < 200 && !env.GetState()[7].Equals(1.0); t++)
        {
            (int x, _, int dir, int paddle) = Ball(env);
            int target = Math.Clamp(x + (dir is UpRight or DownRight ? 1 : -1), 0, 9);
            total += Act(env, obs, target == paddle ? 0 : target < paddle ? MinAtarBreakout.Left : MinAtarBreakout.Right).Reward;
        }
        Assert.True(total >= 3, $"return after refill {total}");
    }

    [Fact]
    public void TheRefillHappensEvenOnTheStepThatMissesTheBall()
    {
        (MinAtarBreakout env, float[] obs) = Game(State(1, 8, DownLeft, 5));
        Assert.True(Act(env, obs, MinAtarBreakout.NoOp).Terminated);
        Assert.Equal(30, env.BricksLeft);
    }

    [Fact]
    public void StickyActionsRepeatThePreviousExecutedAction()
    {
        (MinAtarBreakout env, float[] obs) = Game(State(5, 5, UpRight, 5, lastAction: MinAtarBreakout.Left), new MinAtarOptions(1.0));
        Act(env, obs, MinAtarBreakout.Right);
        Act(env, obs, MinAtarBreakout.Right);
        Assert.Equal(3, Ball(env).Paddle);
        Assert.Equal(MinAtarBreakout.Left, env.GetState()[8]);
    }

    [Fact]
    public void ResetClearsTheStickyActionToNoOp()
    {
        var env = new MinAtarBreakout(new MinAtarOptions(1.0));
        var obs = new float[400];
        env.Reset(3, obs);
        env.SetState(State(5, 5, UpRight, 5, lastAction: MinAtarBreakout.Right));
        env.Reset(3, obs);
        for (int t = 0; t < 3; t++) Act(env, obs, MinAtarBreakout.Left);
        Assert.Equal(4, Ball(env).Paddle);
        Assert.Equal(MinAtarBreakout.NoOp, env.GetState()[8]);
    }

    [Fact]
    public void StickyProbabilityIsHonouredStatistically()
    {
        // Alternate left and right from the middle; a sticky step repeats the previous move.
        var env = new MinAtarBreakout(new MinAtarOptions(0.25));
        var obs = new float[400];
        env.Reset(5, obs);
        int sticky = 0, n = 20_000;
        for (int t = 0; t < n; t++)
        {
            env.SetState(State(5, 5, UpRight, 5, lastAction: MinAtarBreakout.Left));
            Act(env, obs, MinAtarBreakout.Right);
            if (Ball(env).Paddle == 4) sticky++;
        }
        double p = sticky / (double)n;
        Assert.InRange(p, 0.25 - 4 * Math.Sqrt(0.25 * 0.75 / n), 0.25 + 4 * Math.Sqrt(0.25 * 0.75 / n));
    }

    [Fact]
    public void SameSeedSameActionsGiveTheSameEpisode()
    {
        static List<(float[] Obs, StepResult R)> Run(MinAtarBreakout env, int seed)
        {
            var obs = new float[400];
            env.Reset(seed, obs);
            var trace = new List<(float[], StepResult)> { (obs.ToArray(), default) };
            for (int t = 0; t < 300; t++)
            {
                StepResult r = env.Step([(t / 3) % 3], obs);
                trace.Add((obs.ToArray(), r));
                if (r.Terminated) env.Reset(null, obs);
            }
            return trace;
        }

        var a = new MinAtarBreakout();
        var b = new MinAtarBreakout();
        List<(float[], StepResult)> first = Run(a, 42);
        Assert.Equal(first, Run(b, 42), TraceComparer.Instance);
        Assert.Equal(first, Run(a, 42), TraceComparer.Instance); // re-seeding a used instance replays too
        Assert.NotEqual(first, Run(b, 43), TraceComparer.Instance);
    }

    private sealed class TraceComparer : IEqualityComparer<(float[] Obs, StepResult R)>
    {
        public static readonly TraceComparer Instance = new();
        public bool Equals((float[] Obs, StepResult R) x, (float[] Obs, StepResult R) y) => x.R == y.R && x.Obs.SequenceEqual(y.Obs);
        public int GetHashCode((float[] Obs, StepResult R) obj) => obj.R.GetHashCode();
    }

    [Fact]
    public void StepBeforeResetAndBadInputsThrow()
    {
        var env = new MinAtarBreakout();
        var obs = new float[400];
        Assert.Throws<InvalidOperationException>(() => env.Step([0f], obs));
        env.Reset(0, obs);
        Assert.Throws<ArgumentOutOfRangeException>(() => env.Step([3f], obs));
        Assert.Throws<ArgumentOutOfRangeException>(() => env.Step([0.5f], obs));
        Assert.Throws<ArgumentException>(() => env.Step([0f], new float[100]));
        Assert.Throws<ArgumentException>(() => env.SetState(new double[5]));
        Assert.Throws<ArgumentException>(() => env.SetState(State(4, 9, DownLeft, 4))); // running game on row 9
        Assert.Throws<ArgumentException>(() => env.SetState(State(4, 5, 4, 4)));
        Assert.Throws<ArgumentException>(() => env.SetState(State(4, 5, DownLeft, 4, bricks: [(3, 9)])));
        double[] fractional = State(4, 5, DownLeft, 4);
        fractional[0] = 1.5;
        Assert.Throws<ArgumentException>(() => env.SetState(fractional));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MinAtarOptions(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MinAtarOptions(double.NaN));
        Assert.Equal(0.3, MinAtarOptions.Default.WithStickyActionProbability(0.3).StickyActionProbability);
    }

    [Fact]
    public void GetStateRoundTripsThroughSetState()
    {
        var env = new MinAtarBreakout();
        var obs = new float[400];
        env.Reset(9, obs);
        for (int t = 0; t < 7; t++) env.Step([t % 3], obs);
        double[] state = env.GetState();
        var copy = new MinAtarBreakout();
        copy.SetState(state);
        Assert.Equal(state, copy.GetState());
        var obs2 = new float[400];
        copy.WriteObservation(obs2);
        Assert.Equal(obs, obs2);
    }

    [Fact]
    public void StepsAndResetsAllocateNothing()
    {
        var env = new MinAtarBreakout();
        var obs = new float[400];
        var action = new float[1];
        void Run(int steps)
        {
            for (int t = 0; t < steps; t++)
            {
                action[0] = t % 3;
                if (env.Step(action, obs).IsFinished) env.Reset(null, obs);
            }
        }
        env.Reset(1, obs);
        Run(2_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Run(20_000);
        env.Reset(2, obs);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>
    /// The uniform-random baseline (MinAtar's minimal action set, sticky 0.1): the '10x random' yardstick
    /// for training runs. MinAtar's own game measured the same way (20,000 episodes, NumPy, see
    /// docs/minatar.md) gives 0.385 +/- 0.005 with mean length 9.93.
    /// </summary>
    [Fact]
    public void RandomPolicyReturnMatchesMinAtars()
    {
        const int episodes = 20_000;
        var env = (TimeLimit)EnvironmentRegistry.Builtin.Make("MinAtar/Breakout-v1");
        var policy = new SeededRandom(2024);
        var obs = new float[400];
        var action = new float[1];
        double sum = 0, sumSq = 0, steps = 0;
        env.Reset(7, obs);
        for (int e = 0; e < episodes; e++)
        {
            double g = 0;
            StepResult r;
            do
            {
                action[0] = policy.Next(3);
                r = env.Step(action, obs);
                g += r.Reward;
                steps++;
            } while (!r.IsFinished);
            Assert.True(r.Terminated);
            sum += g;
            sumSq += g * g;
            env.Reset(null, obs);
        }
        double mean = sum / episodes;
        double std = Math.Sqrt(sumSq / episodes - mean * mean);
        double stderr = std / Math.Sqrt(episodes);
        output.WriteLine($"MinAtar/Breakout-v1 uniform random policy over {episodes} episodes: mean return {mean:F4} +/- {stderr:F4} (stderr), std {std:F4}, mean length {steps / episodes:F3}");
        // MinAtar: 0.3850 +/- 0.0046; allow both standard errors, four times over.
        Assert.InRange(mean, 0.385 - 4 * Math.Sqrt(stderr * stderr + 0.0046 * 0.0046), 0.385 + 4 * Math.Sqrt(stderr * stderr + 0.0046 * 0.0046));
        Assert.InRange(steps / episodes, 9.93 - 0.3, 9.93 + 0.3);
    }
}
