using System.Diagnostics;
using Advantage.Actors;
using Advantage.Learning;

namespace Advantage.Bench;

/// <summary>
/// End-to-end throughput: environment steps per second of a whole training run (workers stepping
/// CartPoles, batched policy forwards, rollout messages, the learner's update and the parameter
/// broadcast), measured over a fixed window after a warm-up, for each cell of a workers x K grid.
/// </summary>
public static class EndToEnd
{
    public sealed record Settings(int[] Workers, int[] EnvironmentsPerWorker, int RolloutLength, TimeSpan Warmup, TimeSpan Window, string Output);

    public sealed record Cell(
        int Workers,
        int EnvsPerWorker,
        int Rollout,
        double StepsPerSecond,
        double UpdatesPerSecond,
        long MeasuredSteps,
        double MeasuredSeconds,
        double CpuCoresUsed,
        double StepsPerCpuSecond,
        double MeanReturnAtEnd);

    public sealed record Result(string Benchmark, string Environment, MachineInfo Machine, double WarmupSeconds, double WindowSeconds, IReadOnlyList<Cell> Cells);

    public static int Run(Settings settings)
    {
        if (settings.Workers.Length == 0 || settings.EnvironmentsPerWorker.Length == 0 || settings.Warmup < TimeSpan.Zero || settings.Window <= TimeSpan.Zero)
        {
            Console.Error.WriteLine("Need at least one worker count and one K, a non-negative warm-up and a positive window.");
            return 2;
        }
        var machine = MachineInfo.Capture();
        Console.WriteLine($"e2e on CartPole-v1, rollout {settings.RolloutLength}: warm-up {settings.Warmup.TotalSeconds:F1} s, window {settings.Window.TotalSeconds:F1} s per cell; " +
            $"load average before {machine.LoadAverageBefore}, {machine.ProcessorCount} cores.");
        var cells = new List<Cell>();
        foreach (int w in settings.Workers)
        {
            foreach (int k in settings.EnvironmentsPerWorker)
            {
                var cell = Measure(w, k, settings);
                cells.Add(cell);
                Console.WriteLine($"  workers {w} x K {k,2}: {cell.StepsPerSecond,10:N0} steps/s  {cell.UpdatesPerSecond,7:N0} updates/s  cpu {cell.CpuCoresUsed:F2} cores");
            }
        }

        Console.WriteLine();
        Console.WriteLine($"{"workers",7} | {"envs/worker",11} | {"steps/s",10} | {"updates/s",9} | {"cpu cores",9} | {"steps/cpu-s",11}");
        Console.WriteLine($"{new string('-', 7)}-+-{new string('-', 11)}-+-{new string('-', 10)}-+-{new string('-', 9)}-+-{new string('-', 9)}-+-{new string('-', 11)}");
        foreach (var c in cells)
            Console.WriteLine($"{c.Workers,7} | {c.EnvsPerWorker,11} | {c.StepsPerSecond,10:N0} | {c.UpdatesPerSecond,9:N0} | {c.CpuCoresUsed,9:F2} | {c.StepsPerCpuSecond,11:N0}");
        Report.Write(settings.Output, new Result("e2e", "CartPole-v1", machine, settings.Warmup.TotalSeconds, settings.Window.TotalSeconds, cells));
        return 0;
    }

    private static Cell Measure(int workers, int k, Settings settings)
    {
        var system = Report.NewSystem($"bench-e2e-{workers}x{k}");
        try
        {
            var options = new TrainingOptions
            {
                Algorithm = new A2COptions { Workers = workers, EnvironmentsPerWorker = k, RolloutLength = settings.RolloutLength, Seed = 1 },
                EnvironmentId = "CartPole-v1",
                MaxSteps = 1_000_000_000_000,
                TargetMeanReturn = null,
            };
            var run = Training.Start(system, options);
            var timeout = TimeSpan.FromSeconds(30);
            Thread.Sleep(settings.Warmup);
            var process = Process.GetCurrentProcess();
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var wallBefore = Stopwatch.GetTimestamp();
            var before = run.GetProgressAsync(timeout).GetAwaiter().GetResult();
            Thread.Sleep(settings.Window);
            var after = run.GetProgressAsync(timeout).GetAwaiter().GetResult();
            process.Refresh();
            var cpu = process.TotalProcessorTime - cpuBefore;
            var wall = Stopwatch.GetElapsedTime(wallBefore);
            run.Stop();
            if (!run.Completion.Wait(timeout))
                Console.Error.WriteLine($"  workers {workers} x K {k}: the run did not stop within {timeout.TotalSeconds} s.");

            double seconds = after.Seconds - before.Seconds;
            long steps = after.Steps - before.Steps;
            return new Cell(
                workers, k, settings.RolloutLength,
                Report.Round(steps / seconds, 1),
                Report.Round((after.Version - before.Version) / seconds, 1),
                steps,
                Report.Round(seconds, 3),
                Report.Round(cpu.TotalSeconds / wall.TotalSeconds, 2),
                Report.Round(steps / (cpu.TotalSeconds * seconds / wall.TotalSeconds), 1),
                Report.Round(after.MeanReturn, 1));
        }
        finally
        {
            Report.Shutdown(system);
        }
    }
}
