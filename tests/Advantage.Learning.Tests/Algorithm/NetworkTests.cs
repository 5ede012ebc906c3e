using Advantage.Environments;
using Advantage.Learning.Networks;
using TorchSharp;

namespace Advantage.Learning.Tests.Algorithm;

public class NetworkTests
{
    private static readonly NetworkSpec CartPoleSpec = NetworkSpec.For(Box.Uniform([4], -1, 1), new Discrete(2), [64, 64]);

    [Fact]
    public void The_spec_follows_the_spaces()
    {
        Assert.Equal(new NetworkSpec(4, [64, 64], 2, false), CartPoleSpec);
        var gaussian = NetworkSpec.For(Box.Uniform([3], -1, 1), Box.Uniform([2], -2, 2), [16]);
        Assert.True(gaussian.Continuous);
        Assert.Equal(2, gaussian.ActionWidth);
        Assert.Equal(1, CartPoleSpec.ActionWidth);
        Assert.Throws<ArgumentException>(() => NetworkSpec.For(new Discrete(3), new Discrete(2), [8]));
    }

    [Fact]
    public void Parameters_flatten_in_a_fixed_named_order_and_round_trip()
    {
        using var net = new ActorCriticNetwork(CartPoleSpec);
        var vector = new ParameterVector(net);
        Assert.Equal(
            ["body.fc0.weight", "body.fc0.bias", "body.fc1.weight", "body.fc1.bias", "policy_head.weight", "policy_head.bias", "value_head.weight", "value_head.bias"],
            vector.Slots.Select(s => s.Name));
        Assert.Equal(4 * 64 + 64 + 64 * 64 + 64 + 64 * 2 + 2 + 64 + 1, vector.Count);
        Assert.Equal(0, vector.Slots[0].Offset);
        Assert.Equal(4 * 64, vector.Slots[1].Offset);

        var values = Enumerable.Range(0, vector.Count).Select(i => (float)Math.Sin(i)).ToArray();
        vector.Write(values);
        Assert.Equal(values, vector.Read());
        using var other = new ActorCriticNetwork(CartPoleSpec);
        var otherVector = new ParameterVector(other);
        otherVector.Write(vector.Read());
        using var x = torch.ones(3, 4);
        using var a = net.forward(x);
        using var b = other.forward(x);
        Assert.True(a.allclose(b));
    }

    [Fact]
    public void Separate_networks_give_the_value_its_own_layers_so_value_weights_cannot_move_the_policy()
    {
        var spec = CartPoleSpec with { SeparateNetworks = true };
        using var net = ActorCriticNetwork.CreateSeeded(spec, 3);
        var vector = new ParameterVector(net);
        Assert.Equal(
            ["policy_body.fc0.weight", "policy_body.fc0.bias", "policy_body.fc1.weight", "policy_body.fc1.bias",
             "value_body.fc0.weight", "value_body.fc0.bias", "value_body.fc1.weight", "value_body.fc1.bias",
             "policy_head.weight", "policy_head.bias", "value_head.weight", "value_head.bias"],
            vector.Slots.Select(s => s.Name));
        Assert.Equal(2 * (4 * 64 + 64 + 64 * 64 + 64) + 64 * 2 + 2 + 64 + 1, vector.Count);

        using var x = torch.randn(5, 4);
        using var noGrad = torch.no_grad();
        using var features = net.Features(x);
        Assert.Equal([5L, 128L], features.shape);
        using var policyBefore = net.Policy(features).clone();
        using var valueBefore = net.Value(features).clone();
        var values = vector.Read();
        foreach (var slot in vector.Slots.Where(s => s.Name.StartsWith("value_body.", StringComparison.Ordinal)))
            for (int i = slot.Offset; i < slot.Offset + slot.Length; i++) values[i] += 0.5f;
        vector.Write(values);
        using var after = net.Features(x);
        Assert.True(net.Policy(after).allclose(policyBefore, rtol: 0, atol: 0), "The policy read the value network's layers.");
        Assert.False(net.Value(after).allclose(valueBefore), "The value head did not read its own layers.");
    }

    [Fact]
    public void Initialisation_is_orthogonal_with_the_agreed_gains()
    {
        using var net = ActorCriticNetwork.CreateSeeded(new NetworkSpec(64, [64], 64, false), 1);
        var vector = new ParameterVector(net);
        var values = vector.Read();
        float[] Slot(string name)
        {
            var s = vector.Slots.Single(x => x.Name == name);
            return values.AsSpan(s.Offset, s.Length).ToArray();
        }
        // A square orthogonal matrix scaled by g has every row of norm g.
        static double RowNorm(float[] m, int row, int cols) => Math.Sqrt(m.Skip(row * cols).Take(cols).Sum(v => (double)v * v));
        Assert.Equal(Math.Sqrt(2), RowNorm(Slot("body.fc0.weight"), 5, 64), 4);
        Assert.Equal(0.01, RowNorm(Slot("policy_head.weight"), 7, 64), 5);
        Assert.Equal(1.0, RowNorm(Slot("value_head.weight"), 0, 64), 4);
        Assert.All(Slot("body.fc0.bias"), b => Assert.Equal(0f, b));
    }

    [Fact]
    public void A_policy_acts_greedily_when_deterministic_and_reproducibly_when_seeded()
    {
        using var learner = new ActorCriticNetwork(CartPoleSpec);
        var weights = new ParameterVector(learner).Read();
        // Make action 1 dominant: a large bias on its logit.
        var bias = new ParameterVector(learner).Slots.Single(s => s.Name == "policy_head.bias");
        weights[bias.Offset + 1] = 50f;
        using var policy = new Policy(CartPoleSpec, 3, seed: 9);
        policy.Load(weights);
        var observations = new float[12];
        var actions = new float[3];
        policy.Act(observations, actions, deterministic: true);
        Assert.Equal([1f, 1f, 1f], actions);

        weights[bias.Offset + 1] = 0f;
        using var p1 = new Policy(CartPoleSpec, 3, seed: 9);
        using var p2 = new Policy(CartPoleSpec, 3, seed: 9);
        p1.Load(weights);
        p2.Load(weights);
        var a1 = new float[3 * 20];
        var a2 = new float[3 * 20];
        for (int i = 0; i < 20; i++)
        {
            p1.Act(observations, a1.AsSpan(i * 3, 3), deterministic: false);
            p2.Act(observations, a2.AsSpan(i * 3, 3), deterministic: false);
        }
        Assert.Equal(a1, a2);
        Assert.Contains(0f, a1);
        Assert.Contains(1f, a1);
    }
}

public class ConvolutionalBodyTests
{
    [Fact]
    public void MinAtar_body_reads_channel_major_grids_and_outputs_one_row_per_observation()
    {
        var spec = NetworkSpec.For(Box.Uniform([4, 10, 10], 0, 1), new Discrete(3), [64], body: BodyKind.MinAtarConv);
        Assert.Equal([4, 10, 10], spec.ObservationShape);
        using var net = new ActorCriticNetwork(spec);
        Assert.Equal(
            ["body.conv0.weight", "body.conv0.bias", "body.fc0.weight", "body.fc0.bias", "policy_head.weight", "policy_head.bias", "value_head.weight", "value_head.bias"],
            net.Layout.Select(s => s.Name));
        Assert.Equal(16 * 4 * 9 + 16 + 128 * 16 * 8 * 8 + 128 + 3 * 128 + 3 + 128 + 1, net.Layout.Sum(s => s.Length));
        using var obs = torch.rand(5, 400);
        using var logits = net.forward(obs);
        using var features = net.Features(obs);
        using var values = net.Value(features);
        Assert.Equal([5L, 3L], logits.shape);
        Assert.Equal([5L], values.shape);
    }

    [Fact]
    public void Nature_body_fits_84x84_stacks_with_about_1_7_million_parameters()
    {
        var spec = NetworkSpec.For(Box.Uniform([4, 84, 84], 0, 255), new Discrete(6), [64], body: BodyKind.NatureConv);
        using var net = new ActorCriticNetwork(spec);
        int count = net.Layout.Sum(s => s.Length);
        Assert.Equal(32 * 4 * 64 + 32 + 64 * 32 * 16 + 64 + 64 * 64 * 9 + 64 + 512 * 3136 + 512 + 6 * 512 + 6 + 512 + 1, count);
        Assert.InRange(count, 1_600_000, 1_800_000);
        using var logits = net.forward(torch.rand(2, 4 * 84 * 84));
        Assert.Equal([2L, 6L], logits.shape);
    }

    [Fact]
    public void A_convolution_over_a_flat_vector_is_refused_with_the_shape_it_needs()
    {
        var error = Assert.Throws<ArgumentException>(() => NetworkSpec.For(Box.Uniform([4], -1, 1), new Discrete(2), [64], body: BodyKind.MinAtarConv));
        Assert.Contains("needs observations shaped [C, H, W]", error.Message);
    }
}

public class ObservationStatisticsTests
{
    [Fact]
    public void The_learner_learns_observation_statistics_from_each_batch_when_normalisation_is_on()
    {
        var spec = new NetworkSpec(2, [8], 2, false);
        using var plain = new A2CLearner(new A2COptions { HiddenSizes = [8] }, spec);
        Assert.Null(plain.ObservationStatistics);
        using var learner = new A2CLearner(new A2COptions { HiddenSizes = [8], NormalizeObservations = true }, spec);
        // Rows 0..T-1 hold x = 10 + t and y = -4; the bootstrap row (a huge value) must not count.
        var observations = new float[] { 10, -4, 11, -4, 12, -4, 1000, 1000 };
        var rollout = new Rollout(0, 0, 3, 1, 2, 1, observations, [0, 1, 0], [1, 1, 1], new bool[3], new bool[3], [], [], [], []);
        learner.Update([rollout]);
        var stats = learner.ObservationStatistics!;
        // The statistics start as (mean 0, var 1, count 1e-4), as in SB3 and Gymnasium, and merge the batch
        // (mean 11, var 2/3, count 3) with the parallel-variance formula.
        const double prior = 1e-4, n = 3, total = prior + n;
        Assert.Equal(11.0 * n / total, stats.Mean[0], 9);
        Assert.Equal(-4.0 * n / total, stats.Mean[1], 9);
        Assert.Equal((prior * 1 + n * (2.0 / 3.0) + 11.0 * 11.0 * prior * n / total) / total, stats.Var[0], 9);
        Assert.Equal(3.0001, stats.Count, 6);
        Assert.Equal(10f, rollout.Observations[0]); // the message's arrays are never mutated
    }
}
