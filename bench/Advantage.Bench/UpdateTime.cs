using System.Diagnostics;
using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using TorchSharp;

namespace Advantage.Bench;

/// <summary>
/// Milliseconds per learner update on a fixed hand-made CartPole round shaped like the options' (workers x
/// environments x rollout), without actors or environments: the number to watch when making an update cheaper.
/// Process CPU time per update is printed too, because wall time on a shared machine moves with the neighbours' load.
/// </summary>
public static class UpdateTime
{
    public static int Run(AlgorithmOptions options, int updates, bool autograd = false)
    {
        torch.set_num_threads(1);
        torch.set_num_interop_threads(1);
        var env = EnvironmentRegistry.Builtin.Make("CartPole-v1");
        var spec = NetworkSpec.For(env.ObservationSpace, env.ActionSpace, options.HiddenSizes.ToArray(), separateNetworks: options.SeparateNetworks);
        using var learner = Learners.Create(options, spec);
        if (autograd && learner is PpoLearner ppo) ppo.HandWritten = false;
        string path = learner is PpoLearner { HandWritten: true } ? "hand-written" : "autograd";
        // A fixed place in a 1M-step budget, so linear schedules (the PPO CartPole preset's) have a value.
        learner.SetTrainingProgress(100_000, 1_000_000);
        var random = new Random(11);
        var round = new Rollout[options.Workers];
        for (int w = 0; w < round.Length; w++)
            round[w] = LearnerBenchmarks.CartPoleRollout(w, options.RolloutLength, options.EnvironmentsPerWorker, random);
        for (int i = 0; i < Math.Max(5, updates / 10); i++) learner.Update(round);
        var times = new double[updates];
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        for (int i = 0; i < updates; i++)
        {
            var watch = Stopwatch.StartNew();
            learner.Update(round);
            times[i] = watch.Elapsed.TotalMilliseconds;
        }
        process.Refresh();
        double cpuMs = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds / updates;
        Array.Sort(times);
        var sha = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(learner.Parameters.Read().AsSpan())));
        Console.WriteLine($"{options.Algorithm} update ({path}), {options.Workers} x {options.EnvironmentsPerWorker} x {options.RolloutLength}: " +
            $"median {times[updates / 2]:F3} ms, min {times[0]:F3} ms, p90 {times[updates * 9 / 10]:F3} ms over {updates} updates; " +
            $"process cpu {cpuMs:F3} ms per update; parameters sha {sha[..12]}; load average {MachineInfo.LoadAverage()}");
        return 0;
    }
}
