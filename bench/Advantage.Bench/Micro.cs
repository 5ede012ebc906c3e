using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using TorchSharp;

namespace Advantage.Bench;

/// <summary>
/// BenchmarkDotNet over the hot loops, in process (no generated project, no rebuild) with a short job,
/// so the suite finishes in well under three minutes on two cores. A direct allocation check runs first,
/// because "VectorEnvironment.Step allocates nothing" is a contract, not a statistic.
/// </summary>
public static class Micro
{
    public static int Run(string[] benchmarkArgs, bool checkAllocations)
    {
        // As the actors do: small networks run best with one torch thread.
        torch.set_num_threads(1);
        torch.set_num_interop_threads(1);

        if (checkAllocations && !AllocationCheck()) return 1;

        var job = Job.ShortRun
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithId("ShortRun-InProcess");
        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumn(StatisticColumn.Median)
            .WithArtifactsPath(Path.Combine("bench", "results", "BenchmarkDotNet.Artifacts"));
        var types = new[]
        {
            typeof(VectorEnvironmentBenchmarks), typeof(ReturnsBenchmarks), typeof(PolicyBenchmarks), typeof(LearnerBenchmarks), typeof(DenseKernelBenchmarks),
        };
        // Without a filter BenchmarkSwitcher asks on the console; default to everything.
        string[] args = benchmarkArgs.Any(a => a is "--filter" or "-f") ? benchmarkArgs : [.. benchmarkArgs, "--filter", "*"];
        var summaries = BenchmarkSwitcher.FromTypes(types).Run(args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    /// <summary>Counts bytes allocated on this thread over many calls, after a warm-up that lets tiering settle.</summary>
    private static bool AllocationCheck()
    {
        var env = new VectorEnvironmentBenchmarks();
        env.Setup();
        for (int i = 0; i < 20_000; i++) env.Step16CartPoles();
        const int calls = 200_000;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++) env.Step16CartPoles();
        long stepBytes = GC.GetAllocatedBytesForCurrentThread() - before;

        var returns = new ReturnsBenchmarks();
        returns.Setup();
        for (int i = 0; i < 20_000; i++) { returns.NStep(); returns.Gae(); }
        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++) { returns.NStep(); returns.Gae(); }
        long returnBytes = GC.GetAllocatedBytesForCurrentThread() - before;

        var policy = new PolicyBenchmarks();
        policy.Setup();
        for (int i = 0; i < 2_000; i++) policy.Act16();
        const int acts = 20_000;
        before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < acts; i++) policy.Act16();
        long actBytes = GC.GetAllocatedBytesForCurrentThread() - before;
        policy.Cleanup();

        Console.WriteLine("Direct allocation check (GC.GetAllocatedBytesForCurrentThread):");
        Console.WriteLine($"  VectorEnvironment.Step, 16 CartPoles: {(double)stepBytes / calls:F3} bytes per step over {calls:N0} steps (must be 0)");
        Console.WriteLine($"  Returns.NStep + Returns.Gae, [5 x 32]: {(double)returnBytes / calls:F3} bytes per pair over {calls:N0} calls (must be 0)");
        Console.WriteLine($"  Policy.Act, batch 16 (informational): {(double)actBytes / acts:F1} bytes per call");
        bool ok = stepBytes == 0 && returnBytes == 0;
        if (!ok) Console.Error.WriteLine("FAILED: a hot loop that must not allocate did.");
        return ok;
    }
}

/// <summary>One <see cref="VectorEnvironment.Step"/> of 16 time-limited CartPoles, autoreset included.</summary>
[MemoryDiagnoser]
public class VectorEnvironmentBenchmarks
{
    private VectorEnvironment environments = null!;
    private float[][] actions = null!;
    private int next;

    [GlobalSetup]
    public void Setup()
    {
        var envs = new IEnvironment[16];
        for (int i = 0; i < envs.Length; i++) envs[i] = EnvironmentRegistry.Builtin.Make("CartPole-v1");
        environments = new VectorEnvironment(envs);
        environments.Reset(1);
        // Pre-drawn random actions, so episodes end and reset at the rate a near-random policy sees.
        var random = new Random(7);
        actions = new float[64][];
        for (int i = 0; i < actions.Length; i++)
        {
            actions[i] = new float[16];
            for (int k = 0; k < 16; k++) actions[i][k] = random.Next(2);
        }
    }

    [Benchmark(Description = "VectorEnvironment.Step 16 CartPoles")]
    public int Step16CartPoles()
    {
        environments.Step(actions[next]);
        next = (next + 1) & 63;
        return environments.FinishedCount;
    }
}

/// <summary>The return math on one round of a 2 x 16 run with T = 5: [5 x 32].</summary>
[MemoryDiagnoser]
public class ReturnsBenchmarks
{
    private const int T = 5, N = 32;
    private readonly float[] rewards = new float[T * N];
    private readonly float[] values = new float[T * N];
    private readonly float[] bootstrap = new float[N];
    private readonly bool[] terminated = new bool[T * N];
    private readonly bool[] truncated = new bool[T * N];
    private readonly float[] finalValues = new float[T * N];
    private readonly float[] advantages = new float[T * N];
    private readonly float[] returns = new float[T * N];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(3);
        for (int i = 0; i < T * N; i++)
        {
            rewards[i] = 1f;
            values[i] = (float)(random.NextDouble() * 50);
            terminated[i] = random.NextDouble() < 0.05;
            truncated[i] = !terminated[i] && random.NextDouble() < 0.01;
            finalValues[i] = (float)(random.NextDouble() * 50);
        }
        for (int n = 0; n < N; n++) bootstrap[n] = (float)(random.NextDouble() * 50);
    }

    [Benchmark(Description = "Returns.NStep [5 x 32]")]
    public float NStep()
    {
        Returns.NStep(rewards, values, bootstrap, terminated, truncated, finalValues, T, N, 0.99, returns);
        return returns[0];
    }

    [Benchmark(Description = "Returns.Gae [5 x 32]")]
    public float Gae()
    {
        Returns.Gae(rewards, values, bootstrap, terminated, truncated, finalValues, T, N, 0.99, 0.95, advantages, returns);
        return advantages[0];
    }
}

/// <summary>A worker's per-step forward (Act) and per-round parameter load (Load), batch 16, CartPole-sized network.</summary>
[MemoryDiagnoser]
public class PolicyBenchmarks
{
    private Policy policy = null!;
    private float[] observations = null!;
    private readonly float[] actions = new float[16];
    private float[] parameters = null!;

    [GlobalSetup]
    public void Setup()
    {
        var env = EnvironmentRegistry.Builtin.Make("CartPole-v1");
        var spec = NetworkSpec.For(env.ObservationSpace, env.ActionSpace, [64, 64]);
        torch.manual_seed(1);
        using (var network = new ActorCriticNetwork(spec))
            parameters = new ParameterVector(network).Read();
        policy = new Policy(spec, 16, seed: 1);
        policy.Load(parameters);
        var random = new Random(5);
        observations = new float[16 * 4];
        for (int i = 0; i < observations.Length; i++) observations[i] = (float)(random.NextDouble() * 0.1 - 0.05);
    }

    [GlobalCleanup]
    public void Cleanup() => policy.Dispose();

    [Benchmark(Description = "Policy.Act batch 16")]
    public float Act16()
    {
        policy.Act(observations, actions, deterministic: false);
        return actions[0];
    }

    [Benchmark(Description = "Policy.Load (per round)")]
    public void Load() => policy.Load(parameters);
}

/// <summary>One synchronous A2C update on a round of 2 rollouts x 16 CartPoles x 5 steps, plus the learner's per-round parameter read.</summary>
[MemoryDiagnoser]
public class LearnerBenchmarks
{
    private A2CLearner learner = null!;
    private Rollout[] round = null!;

    [Params(false, true)]
    public bool Gae { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var env = EnvironmentRegistry.Builtin.Make("CartPole-v1");
        var spec = NetworkSpec.For(env.ObservationSpace, env.ActionSpace, [64, 64]);
        var options = new A2COptions { Workers = 2, EnvironmentsPerWorker = 16, RolloutLength = 5, Seed = 1 };
        if (Gae) options = options.WithGae(0.95);
        learner = new A2CLearner(options, spec);
        var random = new Random(11);
        round = [CartPoleRollout(0, 5, 16, random), CartPoleRollout(1, 5, 16, random)];
    }

    [GlobalCleanup]
    public void Cleanup() => learner.Dispose();

    [Benchmark(Description = "A2CLearner.Update 2 x 16 x 5")]
    public double Update() => learner.Update(round).GradNorm;

    [Benchmark(Description = "ParameterVector.Read (per round)")]
    public float[] ReadParameters() => learner.Parameters.Read();

    /// <summary>A hand-made rollout shaped like a worker's on CartPole: obs 4, one discrete action, a few episode ends.</summary>
    public static Rollout CartPoleRollout(int workerId, int steps, int k, Random random)
    {
        const int obs = 4;
        var observations = new float[(steps + 1) * k * obs];
        for (int i = 0; i < observations.Length; i++) observations[i] = (float)(random.NextDouble() * 0.2 - 0.1);
        var actions = new float[steps * k];
        for (int i = 0; i < actions.Length; i++) actions[i] = random.Next(2);
        var rewards = new float[steps * k];
        Array.Fill(rewards, 1f);
        var terminated = new bool[steps * k];
        var truncated = new bool[steps * k];
        // Two terminations and one time-limit truncation (with its final observation), as a mid-training round has.
        terminated[1 * k + 2] = true;
        terminated[3 * k + 9] = true;
        int cut = 2 * k + 5;
        truncated[cut] = true;
        var finalObservations = new float[obs];
        for (int i = 0; i < obs; i++) finalObservations[i] = (float)(random.NextDouble() * 0.2 - 0.1);
        return new Rollout(workerId, 0, steps, k, obs, 1, observations, actions, rewards, terminated, truncated,
            [cut], finalObservations, [500.0, 23.0, 41.0], [500, 23, 41]);
    }
}

/// <summary>
/// PPO's hand-written kernel on its CartPole preset's shapes: one minibatch of 256 through separate 4-64-64 policy and
/// value networks, forward and backward, and the tanh that each hidden layer applies (about half the forward's time
/// when tanh went through <c>Vector256.Exp</c>).
/// </summary>
[MemoryDiagnoser]
public class DenseKernelBenchmarks
{
    private const int Rows = 256;
    private DenseActorCritic kernel = null!;
    private float[] parameters = null!, x = null!, dLogits = null!, dValues = null!, gradient = null!, hidden = null!;
    private PpoLearner ppo = null!;
    private Rollout[] ppoRound = null!;

    [GlobalSetup]
    public void Setup()
    {
        var spec = new NetworkSpec(4, [64, 64], 2, false) { SeparateNetworks = true };
        using var network = ActorCriticNetwork.CreateSeeded(spec, 5);
        parameters = new ParameterVector(network).Read();
        kernel = new DenseActorCritic(spec, network.Layout);
        var random = new Random(5);
        x = [.. Enumerable.Range(0, Rows * 4).Select(_ => (float)(random.NextDouble() * 0.2 - 0.1))];
        dLogits = [.. Enumerable.Range(0, Rows * 2).Select(_ => (float)(random.NextDouble() - 0.5))];
        dValues = [.. Enumerable.Range(0, Rows).Select(_ => (float)(random.NextDouble() - 0.5))];
        gradient = new float[parameters.Length];
        hidden = [.. Enumerable.Range(0, Rows * 64).Select(_ => (float)(random.NextDouble() * 6 - 3))];
        // A constant learning rate: the preset's linear decay needs a step budget, and its value does not change the cost.
        var options = PpoPresets.For("CartPole-v1") with { LearningRateSchedule = ScheduleKind.Constant, ClipRangeSchedule = ScheduleKind.Constant };
        ppo = new PpoLearner(options, new NetworkSpec(4, [64, 64], 2, false) { SeparateNetworks = true });
        ppoRound = [LearnerBenchmarks.CartPoleRollout(0, 32, 4, random), LearnerBenchmarks.CartPoleRollout(1, 32, 4, random)];
    }

    [GlobalCleanup]
    public void Cleanup() => ppo.Dispose();

    [Benchmark(Description = "DenseActorCritic forward+backward 256 x (4-64-64, separate)")]
    public float ForwardBackward()
    {
        kernel.Forward(parameters, x, Rows);
        kernel.Backward(parameters, x, Rows, dLogits, dValues, gradient);
        return gradient[0];
    }

    [Benchmark(Description = "PpoLearner.Update, CartPole preset round (2 x 4 x 32, 20 epochs of 256)")]
    public double PpoUpdate() => ppo.Update(ppoRound).GradNorm;

    [Benchmark(Description = "DenseActorCritic.Tanh 256 x 64")]
    public float Tanh()
    {
        // Tanh of values already in (-1, 1) after the first call: the polynomial's cost does not depend on the input.
        DenseActorCritic.Tanh(hidden);
        return hidden[0];
    }
}
