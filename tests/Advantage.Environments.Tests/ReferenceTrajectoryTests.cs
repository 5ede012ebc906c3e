using System.Text.Json;

namespace Advantage.Environments.Tests;

/// <summary>
/// Replays Gymnasium 0.29.1 recordings (Data/*.json, copies of shared/reference/gymnasium, whose README
/// says how they were made): <c>Reset(seed)</c> alone must give Gymnasium's initial state and observation
/// bit for bit (the environments seed NumPy's generator as Gymnasium does, see <see cref="NumPyRandom"/>);
/// then the recorded actions must give every recorded observation, state, reward and flag. Steps are
/// compared to a relative 1e-5, as the README advises: CartPole and both MountainCars match bit for bit,
/// but Acrobot and Pendulum differ from NumPy in the last bits of a float64 state from the first step on
/// (sin/cos of a different math library), which float32 observations mostly hide.
/// </summary>
public class ReferenceTrajectoryTests
{
    private const double RelativeTolerance = 1e-5;
    private const double AbsoluteTolerance = 1e-7;

    public static TheoryData<string, int> Episodes()
    {
        var data = new TheoryData<string, int>();
        foreach (string id in new[] { "CartPole-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Pendulum-v1" })
            for (int episode = 0; episode < 2; episode++)
                data.Add(id, episode);
        return data;
    }

    internal static JsonDocument Load(string id) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", id + ".json")));

    [Theory]
    [MemberData(nameof(Episodes))]
    public void ReplayMatchesGymnasium(string id, int episodeIndex)
    {
        using JsonDocument document = Load(id);
        JsonElement root = document.RootElement;
        JsonElement episode = root.GetProperty("episodes")[episodeIndex];

        var env = Assert.IsType<TimeLimit>(EnvironmentRegistry.Builtin.Make(id));
        Assert.Equal(root.GetProperty("max_episode_steps").GetInt32(), env.MaxEpisodeSteps);
        var inner = Assert.IsAssignableFrom<IStatefulEnvironment>(env.Inner);
        int obsSize = root.GetProperty("observation_shape")[0].GetInt32();
        Assert.Equal(obsSize, env.ObservationSpace.FlatSize);
        AssertActionSpace(root.GetProperty("action_space"), env.ActionSpace);

        var observation = new float[obsSize];
        env.Reset(episode.GetProperty("seed").GetInt32(), observation);
        // Nothing is set by hand: the seed alone must reproduce Gymnasium's start exactly.
        AssertBits(Doubles(episode.GetProperty("initial_state")), inner.GetState(), id, "initial state");
        AssertBits(Doubles(episode.GetProperty("initial_observation")), observation.Select(v => (double)v).ToArray(), id, "initial observation");

        var action = new float[env.ActionSpace.FlatSize];
        int steps = 0;
        foreach (JsonElement step in episode.GetProperty("steps").EnumerateArray())
        {
            int t = step.GetProperty("t").GetInt32();
            JsonElement a = step.GetProperty("action");
            if (a.ValueKind == JsonValueKind.Array)
                for (int i = 0; i < action.Length; i++) action[i] = (float)a[i].GetDouble();
            else
                action[0] = a.GetInt32();

            StepResult result = env.Step(action, observation);

            AssertClose(Doubles(step.GetProperty("observation")), observation, id, t, "observation");
            AssertClose(Doubles(step.GetProperty("state")), inner.GetState(), id, t, "state");
            AssertClose([step.GetProperty("reward").GetDouble()], [result.Reward], id, t, "reward");
            Assert.True(step.GetProperty("terminated").GetBoolean() == result.Terminated, $"{id} t={t}: terminated");
            Assert.True(step.GetProperty("truncated").GetBoolean() == result.Truncated, $"{id} t={t}: truncated");
            steps++;
        }
        Assert.Equal(episode.GetProperty("length").GetInt32(), steps);
    }

    private static void AssertActionSpace(JsonElement expected, Space actual)
    {
        if (expected.GetProperty("type").GetString() == "Discrete")
        {
            Assert.Equal(new Discrete(expected.GetProperty("n").GetInt32()), actual);
        }
        else
        {
            var box = Assert.IsType<Box>(actual);
            Assert.Equal(Doubles(expected.GetProperty("low")).Select(v => (float)v), box.Low);
            Assert.Equal(Doubles(expected.GetProperty("high")).Select(v => (float)v), box.High);
        }
    }

    private static void AssertBits(double[] expected, double[] actual, string id, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.DoubleToInt64Bits(expected[i]) == BitConverter.DoubleToInt64Bits(actual[i]),
                $"{id} {what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    internal static double[] Doubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    private static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<double> actual, string id, int t, string what)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            double error = Math.Abs(expected[i] - actual[i]);
            Assert.True(error <= AbsoluteTolerance + RelativeTolerance * Math.Abs(expected[i]),
                $"{id} t={t} {what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
        }
    }

    private static void AssertClose(IReadOnlyList<double> expected, float[] actual, string id, int t, string what) =>
        AssertClose(expected, actual.Select(v => (double)v).ToArray(), id, t, what);
}
