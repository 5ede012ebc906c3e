using System.Text.Json;

namespace Advantage.Environments.Tests;

/// <summary>
/// Replays trajectories recorded from MinAtar's own breakout.py (Data/MinAtar-Breakout-v1.json, made by
/// Tools/minatar_breakout_reference.py without sticky actions): start from each recorded state, apply the
/// recorded actions, and compare every state, reward, flag and (transposed) observation exactly.
/// </summary>
public class MinAtarBreakoutReferenceTests
{
    private static JsonDocument Load() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Data", "MinAtar-Breakout-v1.json")));

    public static TheoryData<int> Episodes()
    {
        using JsonDocument document = Load();
        var data = new TheoryData<int>();
        for (int i = 0; i < document.RootElement.GetProperty("episodes").GetArrayLength(); i++) data.Add(i);
        return data;
    }

    /// <summary>MinAtar's state list (without the last action, which MinAtar keeps outside the game) in our order.</summary>
    private static double[] ToState(JsonElement recorded, int lastAction)
    {
        var state = new double[MinAtarBreakout.StateLength];
        for (int i = 0; i < 8; i++) state[i] = recorded[i].GetInt32();
        state[8] = lastAction;
        string bricks = recorded[8].GetString()!;
        Assert.Equal(100, bricks.Length);
        for (int i = 0; i < 100; i++) state[9 + i] = bricks[i] - '0';
        return state;
    }

    /// <summary>MinAtar's observation [10, 10, 4] (given as indices of ones) transposed to our [4, 10, 10].</summary>
    private static float[] ToObservation(JsonElement ones)
    {
        var observation = new float[400];
        foreach (JsonElement index in ones.EnumerateArray())
        {
            int i = index.GetInt32();
            int channel = i % 4, cell = i / 4;
            observation[channel * 100 + cell] = 1f;
        }
        return observation;
    }

    [Theory]
    [MemberData(nameof(Episodes))]
    public void ReplayMatchesMinAtar(int episodeIndex)
    {
        using JsonDocument document = Load();
        JsonElement episode = document.RootElement.GetProperty("episodes")[episodeIndex];
        var env = new MinAtarBreakout(new MinAtarOptions(0.0));
        var observation = new float[400];
        env.Reset(episodeIndex, observation);
        env.SetState(ToState(episode.GetProperty("initial_state"), MinAtarBreakout.NoOp));
        env.WriteObservation(observation);
        Assert.Equal(ToObservation(episode.GetProperty("initial_observation")), observation);

        int t = 0;
        foreach (JsonElement step in episode.GetProperty("steps").EnumerateArray())
        {
            int action = step.GetProperty("action").GetInt32();
            StepResult result = env.Step([action], observation);
            Assert.True(step.GetProperty("reward").GetInt32() == result.Reward, $"episode {episodeIndex} step {t}: reward {result.Reward}");
            Assert.True(step.GetProperty("terminated").GetBoolean() == result.Terminated, $"episode {episodeIndex} step {t}: terminated {result.Terminated}");
            Assert.False(result.Truncated);
            double[] expected = ToState(step.GetProperty("state"), action);
            double[] actual = env.GetState();
            Assert.True(expected.AsSpan().SequenceEqual(actual),
                $"episode {episodeIndex} step {t}: state [{string.Join(", ", actual[..9])}] expected [{string.Join(", ", expected[..9])}]");
            if (step.TryGetProperty("observation", out JsonElement ones))
                Assert.True(ToObservation(ones).AsSpan().SequenceEqual(observation), $"episode {episodeIndex} step {t}: observation");
            t++;
        }
    }

    [Fact]
    public void TheRecordingCoversEveryRule()
    {
        using JsonDocument document = Load();
        int refills = 0, passThroughs = 0, terminations = 0, rewards = 0, straight = 0, diagonal = 0;
        foreach (JsonElement episode in document.RootElement.GetProperty("episodes").EnumerateArray())
        {
            JsonElement previous = episode.GetProperty("initial_state");
            foreach (JsonElement step in episode.GetProperty("steps").EnumerateArray())
            {
                JsonElement s = step.GetProperty("state");
                int Bricks(JsonElement e) => e[8].GetString()!.Count(c => c == '1');
                if (Bricks(s) > Bricks(previous)) refills++;
                if (previous[6].GetInt32() == 1 && s[6].GetInt32() == 1) passThroughs++;
                if (step.GetProperty("terminated").GetBoolean()) terminations++;
                rewards += step.GetProperty("reward").GetInt32();
                if (previous[1].GetInt32() == 8 && s[1].GetInt32() == 8 && previous[2].GetInt32() >= 2)
                {
                    if (s[2].GetInt32() == 3 - previous[2].GetInt32()) straight++;
                    else diagonal++;
                }
                previous = s;
            }
        }
        Assert.True(refills >= 3 && passThroughs >= 3 && terminations >= 3 && rewards >= 100 && straight >= 10 && diagonal >= 10,
            $"refills {refills}, pass-throughs {passThroughs}, terminations {terminations}, rewards {rewards}, straight {straight}, diagonal {diagonal}");
    }
}
