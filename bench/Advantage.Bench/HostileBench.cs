using Advantage.Cluster.Tests;

namespace Advantage.Bench;

/// <summary>
/// The pace half of the hostile-input scenario: the same learner and worker processes and attacks as
/// <c>HostileInputTests</c> (which asserts only that the learner survives), here measuring what each attack window costs
/// in env-steps/s against the mean of the windows without attacks either side. A ratio depends on what else the machine
/// runs, so it is measured here, with the load average stored, and never asserted in CI.
/// </summary>
internal static class HostileBench
{
    public sealed record Settings(TimeSpan Baseline, TimeSpan IdleHold, long WarmupVersion, int Repeats, string Out);

    public sealed record WindowResult(string Name, double StepsPerSecond, double Seconds, long FromVersion, long ToVersion);

    public sealed record Repeat(double QuickRatio, double IdleRatio, string LoadAverageAfter, IReadOnlyList<WindowResult> Windows, string Attacks, string Learner);

    public sealed record Result(string Benchmark, MachineInfo Machine, double BaselineSeconds, double IdleHoldSeconds, long WarmupVersion,
        double QuickRatioMedian, double QuickRatioMin, double IdleRatioMedian, double IdleRatioMin, IReadOnlyList<Repeat> Repeats);

    public static int Run(Settings settings)
    {
        var machine = MachineInfo.Capture();
        Console.WriteLine($"hostile: learner process (ulimit -n 1024) + worker process, CartPole-v1, 1 x 4 envs; windows of {settings.Baseline.TotalSeconds:F0} s, " +
            $"1,000 idle connections held {settings.IdleHold.TotalSeconds:F0} s, {settings.Repeats} repeat(s); load average before {machine.LoadAverageBefore}, {machine.ProcessorCount} cores.");
        var hostile = new HostileSettings(settings.Baseline, settings.IdleHold, settings.WarmupVersion, TimeSpan.FromSeconds(300));
        var repeats = new List<Repeat>();
        for (int r = 0; r < settings.Repeats; r++)
        {
            var attacks = new List<string>();
            HostileRun run;
            try
            {
                run = HostileScenario.RunAsync(hostile, attacks.Add).GetAwaiter().GetResult();
            }
            catch (InvalidOperationException e)
            {
                Console.WriteLine($"  repeat {r + 1}: failed: {e.Message.Split('\n')[0]}");
                continue;
            }
            var windows = run.Windows.Select(w => new WindowResult(w.Name, Report.Round(w.StepsPerSecond, 0), Report.Round(w.Last.Seconds - w.First.Seconds, 2), w.First.Version, w.Last.Version)).ToList();
            var repeat = new Repeat(Report.Round(run.QuickRatio, 3), Report.Round(run.IdleRatio, 3), MachineInfo.LoadAverage(), windows,
                string.Join("; ", attacks.Take(5)), run.SampleSummary);
            repeats.Add(repeat);
            Console.WriteLine($"  repeat {r + 1}: short attacks {run.QuickRatio:P0} of the pace around them, 1,000 idle connections {run.IdleRatio:P0} " +
                $"({string.Join(", ", windows.Select(w => $"{w.Name} {w.StepsPerSecond:N0}"))} steps/s); load average {repeat.LoadAverageAfter}");
        }
        if (repeats.Count == 0)
        {
            Console.Error.WriteLine("hostile: every repeat failed.");
            return 1;
        }
        static double Median(IEnumerable<double> values)
        {
            var v = values.Order().ToArray();
            return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
        }
        var result = new Result("hostile", machine, settings.Baseline.TotalSeconds, settings.IdleHold.TotalSeconds, settings.WarmupVersion,
            Median(repeats.Select(x => x.QuickRatio)), repeats.Min(x => x.QuickRatio), Median(repeats.Select(x => x.IdleRatio)), repeats.Min(x => x.IdleRatio), repeats);
        Console.WriteLine($"short attacks: median {result.QuickRatioMedian:P0} (least {result.QuickRatioMin:P0}); 1,000 idle connections: median {result.IdleRatioMedian:P0} (least {result.IdleRatioMin:P0}) of the pace around them.");
        Report.Write(settings.Out, result);
        return 0;
    }
}
