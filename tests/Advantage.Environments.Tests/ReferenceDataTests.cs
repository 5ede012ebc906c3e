using System.Text.Json;

namespace Advantage.Environments.Tests;

/// <summary>Checks the recordings themselves, so a replay failure points at our dynamics, not at misread data.</summary>
public class ReferenceDataTests
{
    [Theory]
    [MemberData(nameof(ReferenceTrajectoryTests.Episodes), MemberType = typeof(ReferenceTrajectoryTests))]
    public void RecordedActionsFollowTheReadmeLcg(string id, int episodeIndex)
    {
        using JsonDocument document = ReferenceTrajectoryTests.Load(id);
        JsonElement space = document.RootElement.GetProperty("action_space");
        JsonElement episode = document.RootElement.GetProperty("episodes")[episodeIndex];
        uint x = unchecked((uint)episode.GetProperty("seed").GetInt64());
        var firstDraws = new List<long>();
        foreach (JsonElement step in episode.GetProperty("steps").EnumerateArray())
        {
            x = unchecked(1664525u * x + 1013904223u);
            if (firstDraws.Count < 5) firstDraws.Add(x);
            JsonElement action = step.GetProperty("action");
            if (space.GetProperty("type").GetString() == "Discrete")
            {
                Assert.Equal((int)((x >> 16) % (uint)space.GetProperty("n").GetInt32()), action.GetInt32());
            }
            else
            {
                double low = space.GetProperty("low")[0].GetDouble(), high = space.GetProperty("high")[0].GetDouble();
                Assert.Equal((float)(low + (high - low) * ((x >> 8) / 16777216.0)), (float)action[0].GetDouble());
            }
        }
        Assert.Equal(episode.GetProperty("lcg_first_draws").EnumerateArray().Select(e => e.GetInt64()), firstDraws);
    }

    [Fact]
    public void EnvironmentsAssemblyStaysFreeOfTorchSharpAndAkka()
    {
        string[] references = typeof(IEnvironment).Assembly.GetReferencedAssemblies().Select(a => a.Name ?? "").ToArray();
        Assert.DoesNotContain(references, name => name.StartsWith("TorchSharp", StringComparison.Ordinal) || name.StartsWith("Akka", StringComparison.Ordinal));
    }
}
