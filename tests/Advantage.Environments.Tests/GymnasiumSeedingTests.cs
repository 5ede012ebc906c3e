namespace Advantage.Environments.Tests;

/// <summary>
/// The seeding contract of the classic-control environments: <c>Reset(seed)</c> starts Gymnasium's episode,
/// <c>Reset(null)</c> draws on from the same stream as Gymnasium's unseeded <c>reset()</c>, an unseeded
/// environment starts as seed 0, and a vector environment seeds column k with seed + k.
/// </summary>
public class GymnasiumSeedingTests
{
    // The expected starts of reset(seed=42), reset(), reset() on one environment, printed by
    // Tools/numpy_pcg64_vectors.py with NumPy 1.24.2 ("seed 42, three ... resets"): the draws Gymnasium 0.29.1
    // makes from np_random(42) (none of these environments draws in step with its default arguments).
    private static readonly double[] CartPoleStarts =
    [
        0.027395604855596334, -0.006112156024794771, 0.03585979199113824, 0.019736802905936393,
        -0.04058226521123505, 0.047562235163675595, 0.026113970199035302, 0.02860643052769539,
        -0.037188636732445414, -0.004961406210443289, -0.012920197576741878, 0.04267649888486018,
    ];

    private static readonly double[] AcrobotStarts =
    [
        0.05479120835661888, -0.01222431194037199, 0.07171958684921265, 0.039473604410886765,
        -0.08116453140974045, 0.09512446820735931, 0.052227940410375595, 0.05721285939216614,
        -0.07437727600336075, -0.009922812692821026, -0.02584039606153965, 0.08535299450159073,
    ];

    private static readonly double[] MountainCarPositions = [-0.44520879028880733, -0.5122243120495895, -0.4282804160177235];

    private static readonly double[] PendulumStarts =
    [
        1.721316619099806, -0.12224312049589536, 2.2531371815723604, 0.3947360581187278, -2.5498589250729733, 0.9512447032735118,
    ];

    public static TheoryData<string> Ids() => new(["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1"]);

    private static double[] ExpectedStates(string id) => id switch
    {
        "CartPole-v1" => CartPoleStarts,
        "Acrobot-v1" => AcrobotStarts,
        "MountainCar-v0" or "MountainCarContinuous-v0" => MountainCarPositions.SelectMany(p => new[] { p, 0.0 }).ToArray(),
        "Pendulum-v1" => PendulumStarts,
        _ => throw new ArgumentOutOfRangeException(nameof(id)),
    };

    private static IStatefulEnvironment Unwrapped(IEnvironment env) => (IStatefulEnvironment)((TimeLimit)env).Inner;

    [Theory]
    [MemberData(nameof(Ids))]
    public void UnseededResetsAfterASeedContinueGymnasiumsStream(string id)
    {
        IEnvironment env = EnvironmentRegistry.Builtin.Make(id);
        IStatefulEnvironment inner = Unwrapped(env);
        var observation = new float[env.ObservationSpace.FlatSize];
        var action = new float[env.ActionSpace.FlatSize];
        double[] expected = ExpectedStates(id);
        int size = inner.StateSize;
        for (int episode = 0; episode < 3; episode++)
        {
            env.Reset(episode == 0 ? 42 : null, observation);
            Assert.Equal(expected.AsSpan(episode * size, size).ToArray(), inner.GetState());
            // Steps in between must not draw from the stream (Gymnasium's defaults draw nothing in step).
            for (int t = 0; t < 5; t++) env.Step(action, observation);
        }
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void FirstUnseededResetIsSeedZero(string id)
    {
        // Gymnasium would seed from OS entropy here; Advantage keeps unseeded runs reproducible instead.
        IEnvironment unseeded = EnvironmentRegistry.Builtin.Make(id), seeded = EnvironmentRegistry.Builtin.Make(id);
        var a = new float[unseeded.ObservationSpace.FlatSize];
        var b = new float[seeded.ObservationSpace.FlatSize];
        unseeded.Reset(null, a);
        seeded.Reset(0, b);
        Assert.Equal(b, a);
        unseeded.Reset(null, a);
        seeded.Reset(null, b);
        Assert.Equal(b, a);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void VectorColumnKStartsGymnasiumsEpisodeForSeedPlusK(string id)
    {
        // Columns 0 and 42 of a vector reset with seed 0 are the recorded seed-0 and seed-42 starts.
        using var document = ReferenceTrajectoryTests.Load(id);
        var episodes = document.RootElement.GetProperty("episodes");
        var vector = new VectorEnvironment(Enumerable.Range(0, 43).Select(_ => EnvironmentRegistry.Builtin.Make(id)).ToArray());
        vector.Reset(0);
        int size = vector.ObservationSize;
        foreach (var episode in episodes.EnumerateArray())
        {
            int seed = episode.GetProperty("seed").GetInt32();
            float[] expected = ReferenceTrajectoryTests.Doubles(episode.GetProperty("initial_observation")).Select(v => (float)v).ToArray();
            Assert.Equal(expected, vector.Observations.Slice(seed * size, size).ToArray());
        }
    }

    [Fact]
    public void NegativeSeedIsItsTwosComplement()
    {
        // Gymnasium refuses negative seeds; here -1 means 2^32 - 1, so a vector's seed + k can wrap harmlessly.
        var negative = new CartPole();
        negative.Reset(-1, new float[4]);
        var rng = new NumPyRandom(0xFFFF_FFFFUL);
        Assert.Equal(Enumerable.Range(0, 4).Select(_ => rng.Uniform(-0.05, 0.05)).ToArray(), negative.GetState());
    }
}
