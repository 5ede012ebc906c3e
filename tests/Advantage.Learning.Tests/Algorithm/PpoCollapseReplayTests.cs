namespace Advantage.Learning.Tests.Algorithm;

/// <summary>
/// Issue 23's collapse, replayed. Data/ppo-collapse holds PPO CartPole seed 1 with the shared trunk (the preset before the
/// fix), captured on the run that collapsed: the learner's state (weights, Adam moments, schedule position) right before
/// update 385, where the value loss jumped from 0.03 to 179, and the rollouts of rounds 385-396 as the run trained on them
/// (`advantage-bench capture-rounds --algo ppo --seed 1 --separate-networks false --autograd --target-return 100000`, then
/// `replay-rounds --first 385 --last 396 --fixture`). Replaying rounds 385-395 and measuring the policy's entropy on the
/// states of round 396 shows the failure and the fix from one state.
/// </summary>
public class PpoCollapseReplayTests
{
    private static RoundReplay Fixture() =>
        RoundReplay.Load(Path.Combine(AppContext.BaseDirectory, "Data", "ppo-collapse", "state.ckpt"), Path.Combine(AppContext.BaseDirectory, "Data", "ppo-collapse", "rounds.json"));

    /// <remarks>
    /// The learner's hand-written update (what PPO runs now). TorchSharp's autograd update, the code the run had, gives the
    /// same entropies to two digits (`replay-rounds --autograd`) but takes
    /// minutes on a loaded machine, so it is not repeated here.
    /// </remarks>
    [Fact]
    public void The_shared_trunk_collapses_on_the_captured_rounds_and_separate_networks_do_not()
    {
        const bool handWritten = true;
        var replay = Fixture();
        Assert.False(replay.Options.SeparateNetworks);
        Assert.Equal(12, replay.Rounds.Count);

        // The old configuration: the captured run's own update, from its own state, on its own rounds: the policy goes
        // deterministic (the run measured 0.00084 on these states, then 3e-6 and a mean return of 9.3 for good).
        var (shared, sharedMetrics) = replay.Replay(replay.Options, 11, handWritten);
        Assert.True(shared[0] > 0.1, $"entropy before the replay {shared[0]}");
        Assert.True(sharedMetrics[0].ValueLoss > 100, $"the spike round's value loss {sharedMetrics[0].ValueLoss}");
        Assert.True(shared[^1] < 0.005, $"shared trunk: entropy after 11 rounds {shared[^1]}, expected the collapse (< 0.005)");

        // The fix, from the same state: the same trunk copied into a policy network and a value network (weights and Adam
        // moments), so the network starts as exactly the captured policy and values; only the value loss's path differs.
        var (separate, separateMetrics) = replay.Replay(replay.Options with { SeparateNetworks = true }, 11, handWritten);
        Assert.Equal(shared[0], separate[0], 1e-6);
        Assert.Equal(sharedMetrics[0].ValueLoss, separateMetrics[0].ValueLoss, 1e-3);
        Assert.All(separate, h => Assert.True(h > 0.05, $"separate networks: entropy {h} in [{string.Join(", ", separate.Select(e => e.ToString("G3")))}]"));
        // The spike round itself: the policy moved about 17 times less without the value loss in its features.
        Assert.True(separateMetrics[0].Extra["approx_kl"] < sharedMetrics[0].Extra["approx_kl"] / 5,
            $"approx_kl at the spike: separate {separateMetrics[0].Extra["approx_kl"]}, shared {sharedMetrics[0].Extra["approx_kl"]}");
    }
}
