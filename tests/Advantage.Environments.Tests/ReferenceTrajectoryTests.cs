using System.Text.Json;

namespace Advantage.Environments.Tests;

/// <summary>
/// Replays Gymnasium 0.29.1 recordings (Data/*.json, see the reference README): start from the recorded
/// state, apply the recorded actions, compare every observation, reward and flag.
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
        inner.SetState(Doubles(episode.GetProperty("initial_state")));
        inner.WriteObservation(observation);
        AssertClose(Doubles(episode.GetProperty("initial_observation")), observation, id, -1, "initial observation");

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
