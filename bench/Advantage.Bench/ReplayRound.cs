using Advantage.Learning;

namespace Advantage.Bench;

/// <summary>
/// Replays captured PPO rounds (<c>capture-rounds</c>) from the very same state under each candidate cause of a collapse
/// changed alone, and reports the policy's entropy on the states the failing run went on to visit after each update:
/// which change keeps it. Optionally writes the rounds as the regression test's fixture.
/// </summary>
public static class ReplayRound
{
    public sealed record Row(string Candidate, string Change, double[] Entropies, double FirstApproxKl, double FirstValueLoss, double FirstGradNorm,
        double MaxValueLoss, double[] ApproxKl);

    public sealed record Result(string Benchmark, string Folder, long First, long Last, long Steps, long Budget, string Update, MachineInfo Machine, IReadOnlyList<Row> Rows);

    public static int Run(string folder, long first, long last, string? output, bool autograd, string? fixture)
    {
        var replay = RoundReplay.FromCapture(folder, first, last);
        if (fixture is not null)
        {
            Directory.CreateDirectory(fixture);
            replay.Save(Path.Combine(fixture, "state.ckpt"), Path.Combine(fixture, "rounds.json"));
            Console.WriteLine($"fixture written to {fixture}: state before round {first}, rounds {first}..{last}");
        }
        var o = replay.Options;
        (string, string, PpoOptions)[] candidates =
        [
            ("as captured", $"shared trunk={!o.SeparateNetworks}, {o.Minibatches} minibatch(es), normalised advantages={o.NormalizeAdvantages}, lr {o.LearningRate:G3} {o.LearningRateSchedule}, target-kl {o.TargetKl?.ToString() ?? "none"}", o),
            ("separate networks", "the captured trunk copied into a policy network and a value network (weights and Adam moments)", o with { SeparateNetworks = true }),
            ("4 minibatches", "4 minibatches of 64 instead of 1 of 256 (no one-minibatch fast path)", o with { Minibatches = 4 }),
            ("no advantage normalisation", "advantages used as estimated", o with { NormalizeAdvantages = false }),
            ("lr x 0.5", "half the scheduled learning rate", o with { LearningRate = o.LearningRate * 0.5 }),
            ("lr x 0.1", "a tenth of the scheduled learning rate", o with { LearningRate = o.LearningRate * 0.1 }),
            ("target-kl 0.01", "epochs stop once approx_kl > 1.5 x 0.01", o with { TargetKl = 0.01 }),
            ("value coef 0", "no value loss in the update (isolates the value loss's pull on a shared trunk)", o with { ValueCoefficient = 0.0 }),
        ];
        int rounds = replay.Rounds.Count - 1;
        Console.WriteLine($"rounds {first}..{last - 1} of {folder} replayed ({replay.Steps:N0} steps of {replay.Budget:N0}); entropy on round {last}'s observations; {(autograd ? "autograd" : "hand-written")} update");
        Console.WriteLine($"{"candidate",-28} | {"kl 1st",8} | {"vloss 1st",9} | entropy before, after each update");
        var rows = new List<Row>();
        foreach (var (name, change, options) in candidates)
        {
            var (entropies, metrics) = replay.Replay(options, rounds, handWritten: !autograd);
            var kl = metrics.Select(m => Report.Round(m.Extra["approx_kl"], 6)).ToArray();
            rows.Add(new Row(name, change, entropies.Select(e => Report.Round(e, 6)).ToArray(), kl[0], Report.Round(metrics[0].ValueLoss, 4), Report.Round(metrics[0].GradNorm, 4),
                Report.Round(metrics.Max(m => m.ValueLoss), 4), kl));
            Console.WriteLine($"{name,-28} | {kl[0],8:G3} | {metrics[0].ValueLoss,9:G4} | {string.Join(" ", entropies.Select(e => e.ToString("G2")))}");
        }
        if (output is not null) Report.Write(output, new Result("replay-rounds", folder, first, last, replay.Steps, replay.Budget, autograd ? "autograd" : "hand-written", MachineInfo.Capture(), rows));
        return 0;
    }
}
