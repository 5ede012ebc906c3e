using Advantage.Learning.Networks;
using TorchSharp;

namespace Advantage.Learning.Tests.Algorithm;

public class ImpalaLearnerTests
{
    private static readonly NetworkSpec Discrete = new(4, [16], 3, false);
    private static readonly NetworkSpec Gaussian = new(3, [16], 2, true, -0.5);

    private static ImpalaOptions Options => new ImpalaOptions { Seed = 3, HiddenSizes = [16], LearningRate = 1e-2, TraceLambda = 0.9 };

    /// <summary>
    /// A rollout acted by <paramref name="policy"/> on made-up observations, with the behaviour log-probabilities it reports,
    /// each shifted by <paramref name="shift"/>(i) (a stand-in for an older policy).
    /// </summary>
    private static Rollout Acted(Policy policy, NetworkSpec spec, int steps, int envs, long version, Func<int, float> shift)
    {
        int obs = spec.ObservationSize, width = spec.ActionWidth;
        var observations = new float[(steps + 1) * envs * obs];
        for (int i = 0; i < observations.Length; i++) observations[i] = 0.8f * (float)Math.Sin(0.37 * i + version);
        var actions = new float[steps * envs * width];
        var behaviour = new float[steps * envs];
        for (int t = 0; t < steps; t++)
            policy.Act(observations.AsSpan(t * envs * obs, envs * obs), actions.AsSpan(t * envs * width, envs * width), behaviour.AsSpan(t * envs, envs), deterministic: false);
        for (int i = 0; i < behaviour.Length; i++) behaviour[i] += shift(i);
        var rewards = Enumerable.Range(0, steps * envs).Select(i => (float)(i % 3)).ToArray();
        var terminated = new bool[steps * envs];
        terminated[envs + 1] = true;
        return new Rollout(0, version, steps, envs, obs, width, observations, actions, rewards, terminated, new bool[steps * envs], [], [], [], [])
        {
            BehaviourLogProbs = behaviour,
        };
    }

    private static Policy PolicyOf(ImpalaLearner learner, NetworkSpec spec, int envs)
    {
        var policy = new Policy(spec, envs, seed: 5);
        policy.Load(learner.Parameters.Read());
        return policy;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void On_policy_the_workers_log_probabilities_give_ratios_of_one(bool continuous)
    {
        var spec = continuous ? Gaussian : Discrete;
        using var learner = new ImpalaLearner(Options, spec);
        using var policy = PolicyOf(learner, spec, 4);
        var metrics = learner.Update([Acted(policy, spec, 6, 4, 0, _ => 0f)]);
        // The worker's log-probabilities (computed on the host in double) and the learner's (torch, float) agree to float noise.
        Assert.Equal(1.0, metrics.Extra["ratio_mean"], 1e-5);
        Assert.Equal(0.0, metrics.Extra["ratio_clipped"]);
        Assert.Equal(24, metrics.BatchSize);
    }

    [Fact]
    public void The_value_loss_is_taken_against_the_V_trace_targets_of_the_lagged_batch()
    {
        var options = Options;
        using var learner = new ImpalaLearner(options, Discrete);
        using var policy = PolicyOf(learner, Discrete, 3);
        // Behaviour log-probabilities shifted both ways: some ratios clip at rho-bar 1, some do not.
        Func<int, float> shift = i => 0.4f * (float)Math.Sin(1.3 * i);
        var rollout = Acted(policy, Discrete, 5, 3, 0, shift);

        // From outside: the learner's values and log-probabilities of the taken actions, then V-trace.
        using var network = ActorCriticNetwork.CreateSeeded(Discrete, 99);
        new ParameterVector(network).Write(learner.Parameters.Read());
        float[] values, logits;
        using (var obs = torch.tensor(rollout.Observations, [6 * 3, 4]))
        {
            using var v = network.Value(network.Features(obs));
            values = v.data<float>().ToArray();
            using var p = network.Policy(network.Features(obs));
            logits = p.data<float>().ToArray();
        }
        var logRhos = new float[15];
        for (int i = 0; i < 15; i++)
        {
            var row = logits.AsSpan(i * 3, 3);
            double max = Math.Max(row[0], Math.Max(row[1], row[2]));
            double logSum = max + Math.Log(Math.Exp(row[0] - max) + Math.Exp(row[1] - max) + Math.Exp(row[2] - max));
            logRhos[i] = (float)(row[(int)rollout.Actions[i]] - logSum - rollout.BehaviourLogProbs[i]);
        }
        var vs = new float[15];
        var pg = new float[15];
        Learning.Returns.VTrace(logRhos, rollout.Rewards, values.AsSpan(0, 15), values.AsSpan(15, 3), rollout.Terminated, rollout.Truncated, new float[15], 5, 3,
            options.Gamma, options.TraceLambda, options.RhoBar, options.CBar, options.PgRhoBar, vs, pg);
        double expected = vs.Select((target, i) => (double)(target - values[i]) * (target - values[i])).Average();
        double expectedRatio = logRhos.Average(l => Math.Exp(l));

        var metrics = learner.Update([rollout]);
        Assert.Equal(expected, metrics.ValueLoss, 1e-5 * Math.Max(1, expected));
        Assert.Equal(expectedRatio, metrics.Extra["ratio_mean"], 1e-5);
        Assert.InRange(metrics.Extra["ratio_clipped"], 0.1, 0.9);
    }

    [Fact]
    public void A_rollout_without_behaviour_log_probabilities_is_refused_before_anything_changes()
    {
        using var learner = new ImpalaLearner(Options, Discrete);
        using var policy = PolicyOf(learner, Discrete, 2);
        var before = learner.Parameters.Read();
        var error = Assert.Throws<ArgumentException>(() => learner.Update([Acted(policy, Discrete, 4, 2, 0, _ => 0f) with { BehaviourLogProbs = [] }]));
        Assert.Contains("BehaviourLogProbs", error.Message);
        Assert.Equal(before, learner.Parameters.Read());
    }

    [Fact]
    public void Updates_on_lagged_batches_stay_finite_and_move_the_parameters()
    {
        using var learner = new ImpalaLearner(Options with { NormalizeObservations = true }, Discrete);
        using var policy = PolicyOf(learner, Discrete, 4);
        var start = learner.Parameters.Read();
        for (int round = 0; round < 5; round++)
        {
            // The policy that acts lags the learner by one update (loaded only every other round).
            if (round % 2 == 0) policy.Load(learner.Parameters.Read());
            var metrics = learner.Update([Acted(policy, Discrete, 5, 4, round, _ => 0f), Acted(policy, Discrete, 5, 4, round, _ => 0f)]);
            Assert.True(double.IsFinite(metrics.PolicyLoss) && double.IsFinite(metrics.ValueLoss) && metrics.GradNorm > 0);
            Assert.InRange(metrics.Extra["ratio_mean"], 0.5, 2.0);
        }
        Assert.NotEqual(start, learner.Parameters.Read());
    }
    /// <summary>
    /// The crash of issue 22 ("Expected false to be true ... toFloat at c10/core/Scalar.h:140" inside RMSProp.step): not a
    /// value that overflowed a float (that reads "cannot be converted to type float without overflow"), but a native
    /// Scalar read after it was freed. TorchSharp's optimizers turn each double (alpha, 1 - alpha, eps, -lr, Adam's bias
    /// corrections) into a temporary Scalar and pass only its handle to the native call; a garbage collection on another
    /// thread during that call lets the finalizer free the Scalar while libtorch reads its tag. A cluster learner, whose
    /// remoting threads allocate all the time, met it. Here another thread collects and finalizes without pause while
    /// the learner updates: every optimizer step must keep its scalars alive.
    /// </summary>
    [Theory]
    [InlineData(OptimizerKind.RmsProp)]
    [InlineData(OptimizerKind.Adam)]
    public void Optimizer_steps_survive_collections_and_finalizers_running_alongside(OptimizerKind optimizer)
    {
        var options = Options with { Optimizer = optimizer };
        using var learner = new ImpalaLearner(options, Discrete);
        using var policy = PolicyOf(learner, Discrete, 4);
        var batch = new[] { Acted(policy, Discrete, 5, 4, 0, i => 0.1f * (float)Math.Sin(i)) };
        using var stop = new CancellationTokenSource();
        var collector = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                // The temporaries are young: collecting the youngest generation finds them, and costs the updates little.
                GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                GC.WaitForPendingFinalizers();
            }
        }) { IsBackground = true };
        collector.Start();
        try
        {
            for (int i = 0; i < 1000; i++)
            {
                var metrics = learner.Update(batch);
                Assert.True(double.IsFinite(metrics.PolicyLoss), $"update {i}: {metrics}");
            }
        }
        finally
        {
            stop.Cancel();
            collector.Join();
        }
    }
}
