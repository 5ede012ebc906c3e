using Advantage.Environments;
using Advantage.Learning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Advantage.Learning.Tests.Algorithm;

/// <summary>
/// The one distribution abstraction: each distribution's log-probability and entropy against closed forms, its CPU side
/// (workers, TrainedPolicy) against its torch side (learners), and mode = argmax / mean.
/// </summary>
public class DistributionTests
{
    private static readonly double LogTwoPi = Math.Log(2 * Math.PI);

    [Fact]
    public void Categorical_log_prob_and_entropy_match_the_closed_form_on_both_sides()
    {
        // Logits ln 1, ln 2, ln 3 (plus a shift the softmax must ignore): probabilities 1/6, 2/6, 3/6.
        float shift = 40f;
        float[] logits = [MathF.Log(1) + shift, MathF.Log(2) + shift, MathF.Log(3) + shift];
        double[] p = [1 / 6.0, 2 / 6.0, 3 / 6.0];
        double entropy = -p.Sum(x => x * Math.Log(x));
        var distribution = CategoricalDistribution.Instance;
        for (int a = 0; a < 3; a++)
            Assert.Equal(Math.Log(p[a]), distribution.LogProb(logits, [], [], [a]), 5);
        Assert.Equal(entropy, distribution.Entropy(logits, [], []), 5);
        Assert.Equal(p.Select(x => (float)x), CategoricalDistribution.Probabilities(logits), (x, y) => Math.Abs(x - y) < 1e-6);

        using var scope = torch.NewDisposeScope();
        using var network = HeadOnly(new NetworkSpec(3, [3], 3, false), logits);
        var features = torch.zeros(3, 3);
        var actions = distribution.Actions(torch.tensor(new float[] { 0, 1, 2 }, [3, 1]));
        var (logProb, rowEntropy) = distribution.LogProbAndEntropy(network, features, actions);
        var lp = logProb.data<float>().ToArray();
        for (int a = 0; a < 3; a++) Assert.Equal(Math.Log(p[a]), lp[a], 5);
        Assert.All(rowEntropy!.data<float>().ToArray(), e => Assert.Equal(entropy, e, 5));
        Assert.All(distribution.Entropy(network, features).data<float>().ToArray(), e => Assert.Equal(entropy, e, 5));
    }

    [Fact]
    public void Diagonal_gaussian_log_prob_and_entropy_match_the_closed_form_on_both_sides()
    {
        // Means (0.5, -1), standard deviations (2, 0.5), action (1.5, -1.25): both z = +-0.5, so
        // log p = -0.25 - ln 2 + ln 2 - ln 2 pi, and the entropy is 1 + ln 2 pi + ln 2 + ln 0.5 = 1 + ln 2 pi.
        float[] mean = [0.5f, -1f];
        float[] logStd = [MathF.Log(2), MathF.Log(0.5f)];
        float[] action = [1.5f, -1.25f];
        double logDensity = -0.25 - LogTwoPi;
        double entropy = 1 + LogTwoPi;
        var distribution = DiagonalGaussianDistribution.Instance;
        Assert.Equal(logDensity, distribution.LogProb(mean, logStd, [], action), 6);
        Assert.Equal(entropy, distribution.Entropy(mean, logStd, []), 6);

        using var scope = torch.NewDisposeScope();
        using var network = HeadOnly(new NetworkSpec(2, [2], 2, true), mean, logStd);
        var features = torch.zeros(4, 2);
        var actions = distribution.Actions(torch.tensor(Enumerable.Repeat(action, 4).SelectMany(a => a).ToArray(), [4, 2]));
        var (logProb, rowEntropy) = distribution.LogProbAndEntropy(network, features, actions);
        Assert.All(logProb.data<float>().ToArray(), l => Assert.Equal(logDensity, l, 5));
        Assert.All(rowEntropy!.data<float>().ToArray(), e => Assert.Equal(entropy, e, 5));
        Assert.Equal(4, distribution.Entropy(network, features).shape[0]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_cpu_side_agrees_with_the_torch_side_on_a_trained_looking_network(bool continuous)
    {
        var spec = continuous
            ? NetworkSpec.For(Box.Uniform([5], -1, 1), Box.Uniform([3], -2, 2), [16, 16], initialLogStd: -0.7)
            : NetworkSpec.For(Box.Uniform([5], -1, 1), new Discrete(4), [16, 16]);
        using var scope = torch.NewDisposeScope();
        using var network = ActorCriticNetwork.CreateSeeded(spec, 3);
        using (torch.no_grad())
        {
            // Spread the logits and means beyond the near-uniform initial head.
            network.Flat.mul_(3.0);
        }
        int n = 64;
        var random = new Random(11);
        var observations = Enumerable.Range(0, n * 5).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var distribution = ActionDistribution.For(spec);
        var heads = new float[n * spec.PolicyOutputs];
        var logStd = continuous ? network.LogStd()!.detach().data<float>().ToArray() : [];
        var sampled = new float[n * spec.ActionWidth];
        Tensor logProb, entropy;
        using (torch.no_grad())
        {
            var features = network.Features(torch.tensor(observations, [n, 5]));
            network.Policy(features).data<float>().CopyTo(heads);
            for (int i = 0; i < n; i++)
                distribution.Sample(heads.AsSpan(i * spec.PolicyOutputs, spec.PolicyOutputs), logStd, [], random, sampled.AsSpan(i * spec.ActionWidth, spec.ActionWidth));
            var actions = distribution.Actions(torch.tensor(sampled, [n, spec.ActionWidth]));
            (logProb, var e) = distribution.LogProbAndEntropy(network, features, actions);
            entropy = e!;
        }
        var lp = logProb.data<float>().ToArray();
        var en = entropy.data<float>().ToArray();
        for (int i = 0; i < n; i++)
        {
            var head = heads.AsSpan(i * spec.PolicyOutputs, spec.PolicyOutputs);
            var action = sampled.AsSpan(i * spec.ActionWidth, spec.ActionWidth);
            Assert.Equal(distribution.LogProb(head, logStd, [], action), lp[i], 1e-4);
            Assert.Equal(distribution.Entropy(head, logStd, []), en[i], 1e-4);
        }
    }

    [Fact]
    public void Mode_is_the_first_argmax_or_the_mean_and_draws_nothing()
    {
        var categorical = ActionDistribution.For(new NetworkSpec(2, [2], 4, false));
        var action = new float[1];
        categorical.Mode([0.1f, 2f, 2f, -1f], action);
        Assert.Equal(1f, action[0]);

        var gaussian = ActionDistribution.For(new NetworkSpec(2, [2], 3, true));
        var mean = new float[] { 0.25f, -3f, 7f };
        var chosen = new float[3];
        gaussian.Mode(mean, chosen);
        Assert.Equal(mean, chosen);
    }

    [Fact]
    public void Categorical_samples_follow_the_probabilities_and_a_seed_repeats_them()
    {
        float[] logits = [0f, MathF.Log(3)];
        var counts = new int[2];
        var random = new Random(5);
        var action = new float[1];
        for (int i = 0; i < 20_000; i++)
        {
            CategoricalDistribution.Instance.Sample(logits, [], [], random, action);
            counts[(int)action[0]]++;
        }
        Assert.InRange(counts[1] / 20_000.0, 0.74, 0.76);

        var a = new Random(9);
        var b = new Random(9);
        var first = Enumerable.Range(0, 50).Select(_ => CategoricalDistribution.Sample(logits, a, deterministic: false));
        var second = Enumerable.Range(0, 50).Select(_ => CategoricalDistribution.Sample(logits, b, deterministic: false));
        Assert.Equal(first, second);
    }

    [Fact]
    public void Gaussian_samples_have_the_mean_and_spread_asked_for()
    {
        float[] mean = [1f, -2f];
        float[] logStd = [MathF.Log(0.5f), MathF.Log(3f)];
        var random = new Random(3);
        int n = 40_000;
        var sums = new double[2];
        var squares = new double[2];
        var action = new float[2];
        for (int i = 0; i < n; i++)
        {
            DiagonalGaussianDistribution.Instance.Sample(mean, logStd, [], random, action);
            for (int d = 0; d < 2; d++) { sums[d] += action[d]; squares[d] += action[d] * (double)action[d]; }
        }
        for (int d = 0; d < 2; d++)
        {
            double m = sums[d] / n, sd = Math.Sqrt(squares[d] / n - m * m);
            Assert.Equal(mean[d], m, 0.05);
            Assert.Equal(Math.Exp(logStd[d]), sd, 0.05);
        }
    }

    /// <summary>A network whose policy head ignores the features (zero weights) and outputs <paramref name="bias"/>.</summary>
    private static ActorCriticNetwork HeadOnly(NetworkSpec spec, float[] bias, float[]? logStd = null)
    {
        var network = new ActorCriticNetwork(spec);
        var values = new float[new ParameterVector(network).Count];
        foreach (var slot in network.Layout)
        {
            if (slot.Name == "policy_head.bias") bias.CopyTo(values, slot.Offset);
            if (slot.Name == "log_std" && logStd is not null) logStd.CopyTo(values, slot.Offset);
        }
        new ParameterVector(network).Write(values);
        return network;
    }
}
