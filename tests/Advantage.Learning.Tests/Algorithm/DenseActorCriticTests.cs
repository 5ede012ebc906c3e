using Advantage.Learning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Advantage.Learning.Tests.Algorithm;

/// <summary>The hand-written forward/backward pass PPO uses for small fully connected networks, against TorchSharp's autograd.</summary>
public class DenseActorCriticTests
{
    [Theory]
    [InlineData(false, new[] { 64, 64 })]
    [InlineData(true, new[] { 64, 64 })]
    [InlineData(false, new[] { 5, 7 })]
    [InlineData(true, new[] { 20 })]
    [InlineData(true, new[] { 40, 9, 33 })]
    public void Forward_and_gradients_equal_autograd(bool separate, int[] hidden)
    {
        var spec = new NetworkSpec(4, hidden, 3, false) { SeparateNetworks = separate };
        using var network = ActorCriticNetwork.CreateSeeded(spec, 5);
        var parameters = new ParameterVector(network).Read();
        // Trained-looking weights: the initial heads are tiny, so perturb every weight to exercise every path.
        var random = new Random(7);
        for (int i = 0; i < parameters.Length; i++) parameters[i] += (float)(0.2 * (random.NextDouble() - 0.5));
        new ParameterVector(network).Write(parameters);
        int n = 37;
        var x = Enumerable.Range(0, n * 4).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray();
        var dLogits = Enumerable.Range(0, n * 3).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var dValues = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();

        var kernel = new DenseActorCritic(spec, network.Layout);
        kernel.Forward(parameters, x, n);
        var gradient = new float[parameters.Length];
        kernel.Backward(parameters, x, n, dLogits, dValues, gradient);

        // Autograd: the loss sum(dL * logits) + sum(dV * values) has exactly these output gradients.
        if (network.Flat.grad is { } old) old.zero_();
        using var scope = torch.NewDisposeScope();
        var input = torch.tensor(x, [n, 4]);
        var features = network.Features(input);
        var logits = network.Policy(features);
        var values = network.Value(features);
        var loss = (logits * torch.tensor(dLogits, [n, 3])).sum() + (values * torch.tensor(dValues, [n])).sum();
        loss.backward();
        var expectedLogits = logits.detach().data<float>().ToArray();
        var expectedValues = values.detach().data<float>().ToArray();
        var expectedGradient = network.Flat.grad!.data<float>().ToArray();

        AssertClose(expectedLogits, kernel.Logits(n).ToArray(), 1e-5, "logits");
        AssertClose(expectedValues, kernel.Values(n).ToArray(), 1e-5, "values");
        AssertClose(expectedGradient, gradient, 1e-4, "gradient");
    }

    [Theory]
    [InlineData(1, 0.0, true, false, 3)]
    [InlineData(1, 0.01, false, true, 3)]
    [InlineData(3, 0.0, true, true, 3)]
    [InlineData(4, 0.02, true, false, 3)]
    // 256 and 128 rows a minibatch: split in two halves, the second on another thread.
    [InlineData(1, 0.0, true, false, 8)]
    [InlineData(2, 0.01, false, true, 8)]
    public void A_hand_written_PPO_update_matches_the_autograd_one(int minibatches, double entropy, bool separate, bool targetKl, int envs)
    {
        var options = new PpoOptions
        {
            Seed = 4, HiddenSizes = [32, 16], SeparateNetworks = separate, Epochs = 5, Minibatches = minibatches,
            LearningRate = 3e-3, EntropyCoefficient = entropy, TargetKl = targetKl ? 0.5 : null,
        };
        var spec = new NetworkSpec(4, [32, 16], 2, false) { SeparateNetworks = separate };
        using var byHand = new PpoLearner(options, spec);
        using var autograd = new PpoLearner(options, spec) { HandWritten = false };
        Assert.True(byHand.HandWritten);
        Assert.False(autograd.HandWritten);
        var random = new Random(3);
        for (int round = 0; round < 3; round++)
        {
            var batch = new[] { MakeRollout(0, round, 16, envs, random), MakeRollout(1, round, 16, envs, random) };
            var a = byHand.Update(batch);
            var b = autograd.Update(batch);
            Assert.Equal(b.Extra["epochs"], a.Extra["epochs"]);
            Assert.Equal(0.0, a.Extra["initial_ratio_error"]);
            Assert.Equal(b.PolicyLoss, a.PolicyLoss, 1e-4);
            Assert.Equal(b.ValueLoss, a.ValueLoss, 1e-3 * Math.Max(1, b.ValueLoss));
            Assert.Equal(b.Entropy, a.Entropy, 1e-4);
            Assert.Equal(b.GradNorm, a.GradNorm, 1e-3 * Math.Max(1, b.GradNorm));
            Assert.Equal(b.ExplainedVariance, a.ExplainedVariance, 1e-4);
            Assert.Equal(b.Extra["approx_kl"], a.Extra["approx_kl"], 1e-4);
            AssertClose(autograd.Parameters.Read(), byHand.Parameters.Read(), 2e-4, $"parameters after round {round}");
        }
        // The optimizer state the checkpoint saves moved the same way too.
        var (stepA, firstA, _) = ((KeptScalarsAdam)byHand.Optimizer).Moments(byHand.Network.Flat);
        var (stepB, firstB, _) = ((KeptScalarsAdam)autograd.Optimizer).Moments(autograd.Network.Flat);
        Assert.Equal(stepB, stepA);
        AssertClose(firstB, firstA, 1e-4, "Adam's first moment");
    }

    [Fact]
    public void Tanh_is_within_seven_float_ulps_of_tanh_everywhere_and_keeps_its_range_and_NaN()
    {
        // A dense grid over [-12, 12] (beyond the clamp at 7.905), the tiny region where tanh(x) = x, and lengths that
        // leave a tail after the eight-wide loop.
        var grid = Enumerable.Range(0, 480_001).Select(i => -12f + i * 5e-5f)
            .Concat([0f, -0f, 1e-30f, -3e-4f, 4e-4f, 1e-3f, 7.9053f, 20f, -20f, float.MaxValue, float.MinValue]).ToArray();
        var values = (float[])grid.Clone();
        DenseActorCritic.Tanh(values);
        double worstUlps = 0, worstAbsolute = 0;
        for (int i = 0; i < grid.Length; i++)
        {
            double exact = Math.Tanh(grid[i]);
            double error = Math.Abs(values[i] - exact);
            worstAbsolute = Math.Max(worstAbsolute, error);
            worstUlps = Math.Max(worstUlps, error / Math.Max(MathF.BitIncrement((float)Math.Abs(exact)) - (float)Math.Abs(exact), float.Epsilon));
            Assert.True(Math.Abs(values[i]) <= 1f, $"|tanh({grid[i]})| = {values[i]} exceeds 1");
            Assert.True(Math.Sign(values[i]) == Math.Sign(grid[i]) || values[i] == 0, $"tanh({grid[i]}) = {values[i]} has the wrong sign");
        }
        Assert.True(worstUlps <= 7, $"worst error {worstUlps:F2} ulps");
        Assert.True(worstAbsolute <= 4e-7, $"worst absolute error {worstAbsolute:E2}");

        float[] odd = [float.NaN, 0.5f, float.NaN];
        DenseActorCritic.Tanh(odd);
        Assert.True(float.IsNaN(odd[0]) && float.IsNaN(odd[2]), "NaN must stay NaN so a broken network is caught, not hidden");
        Assert.Equal(MathF.Tanh(0.5f), odd[1], 1e-6f);
    }

    [Fact]
    public void A_split_minibatch_gives_the_same_numbers_every_time()
    {
        // Which thread runs the second half must not matter: two learners fed the same rounds end bit-identical.
        var options = new PpoOptions { Seed = 2, HiddenSizes = [64, 64], SeparateNetworks = true, Epochs = 4, Minibatches = 1, LearningRate = 1e-3 };
        var spec = new NetworkSpec(4, [64, 64], 2, false) { SeparateNetworks = true };
        using var first = new PpoLearner(options, spec);
        using var second = new PpoLearner(options, spec);
        var random = new Random(9);
        for (int round = 0; round < 3; round++)
        {
            var batch = new[] { MakeRollout(0, round, 32, 4, random), MakeRollout(1, round, 32, 4, random) };
            first.Update(batch);
            second.Update(batch);
        }
        Assert.Equal(first.Parameters.Read(), second.Parameters.Read());
    }

    [Fact]
    public void A_round_with_fewer_transitions_than_minibatches_trains_one_transition_a_minibatch()
    {
        // A simulation run's round closed short can hold fewer transitions than Minibatches; it trains rather than failing the run.
        var options = new PpoOptions { Seed = 2, HiddenSizes = [8], Epochs = 2, Minibatches = 64 };
        var spec = new NetworkSpec(4, [8], 2, false);
        foreach (bool byHand in new[] { true, false })
        {
            using var learner = new PpoLearner(options, spec) { HandWritten = byHand };
            var before = learner.Parameters.Read();
            var metrics = learner.Update([MakeRollout(0, 0, 4, 3, new Random(1))]);
            Assert.Equal(12, metrics.BatchSize);
            Assert.NotEqual(before, learner.Parameters.Read());
        }
    }

    [Fact]
    public void Other_networks_keep_the_autograd_path()
    {
        using var gaussian = new PpoLearner(new PpoOptions { HiddenSizes = [8] }, new NetworkSpec(3, [8], 1, true));
        Assert.False(gaussian.HandWritten);
        using var valueClip = new PpoLearner(new PpoOptions { HiddenSizes = [8], ClipRangeValue = 0.2 }, new NetworkSpec(3, [8], 2, false));
        Assert.False(valueClip.HandWritten);
        using var rmsProp = new PpoLearner(new PpoOptions { HiddenSizes = [8], Optimizer = OptimizerKind.RmsProp }, new NetworkSpec(3, [8], 2, false));
        Assert.False(rmsProp.HandWritten);
    }

    private static Rollout MakeRollout(int worker, long version, int steps, int envs, Random random)
    {
        var observations = Enumerable.Range(0, (steps + 1) * envs * 4).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray();
        var actions = Enumerable.Range(0, steps * envs).Select(_ => (float)random.Next(2)).ToArray();
        var rewards = Enumerable.Range(0, steps * envs).Select(_ => (float)random.NextDouble()).ToArray();
        var terminated = Enumerable.Range(0, steps * envs).Select(_ => random.NextDouble() < 0.05).ToArray();
        return new Rollout(worker, version, steps, envs, 4, 1, observations, actions, rewards, terminated, new bool[steps * envs], [], [], [], []);
    }

    private static void AssertClose(float[] expected, float[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(expected[i] - actual[i]) / Math.Max(1.0, Math.Abs(expected[i]));
            if (error > worst) (worst, at) = (error, i);
        }
        Assert.True(worst <= tolerance, $"{what}: worst relative error {worst:G3} at {at} (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)})");
    }
}
