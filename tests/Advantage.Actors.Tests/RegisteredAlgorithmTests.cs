using Advantage.Learning;
using Advantage.Learning.Networks;
using Advantage.Samples.CustomAlgorithm;
using TorchSharp;

namespace Advantage.Actors.Tests;

/// <summary>An algorithm this assembly defines, as a user would: its options, one option of its own, its learner.</summary>
public sealed record ScaledPolicyOptions : AlgorithmOptions
{
    public const string AlgorithmName = "scaled-policy-test";

    public override string Algorithm => AlgorithmName;

    /// <summary>Weight of the policy term, in (0, 10].</summary>
    public double PolicyScale { get; init; } = 1.0;

    public static AlgorithmDescriptor Descriptor { get; } =
        AlgorithmDescriptor.Create<ScaledPolicyOptions>(AlgorithmName, _ => new ScaledPolicyOptions(), (options, spec) => new ScaledPolicyLearner(options, spec)) with
        {
            Options = [new(typeof(ScaledPolicyOptions), nameof(PolicyScale), "--policy-scale", "Weight of the policy term") { Range = new(0, 10, MinimumInclusive: false) }],
        };
}

/// <summary>A2C's loss with the policy term weighted, through the open learner base.</summary>
public sealed class ScaledPolicyLearner(ScaledPolicyOptions options, NetworkSpec spec) : ActorCriticLearner(options, spec)
{
    public int Updates { get; private set; }

    public override UpdateMetrics Update(IReadOnlyList<Rollout> batch)
    {
        ApplyLearningRate();
        using var scope = torch.NewDisposeScope();
        var round = Forward(batch);
        var policyLoss = -(round.Advantages * round.LogProb).mean() * options.PolicyScale;
        var valueLoss = (round.Returns - round.Values).pow(2).mean();
        double norm = Step(policyLoss + options.ValueCoefficient * valueLoss);
        Updates++;
        return new UpdateMetrics(policyLoss.item<float>(), valueLoss.item<float>(), round.Entropy.mean().item<float>(), norm, round.ExplainedVariance, round.Transitions);
    }
}

/// <summary>Options of an algorithm nobody registered.</summary>
public sealed record UnregisteredOptions : AlgorithmOptions
{
    public override string Algorithm => "never-registered";
}

public class RegisteredAlgorithmTests : ActorTestKit
{
    private static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "advantage-registered-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    [Fact]
    public async Task An_algorithm_registered_outside_the_library_trains_checkpoints_and_reports_its_own_option()
    {
        Algorithms.Register(ScaledPolicyOptions.Descriptor);
        Algorithms.Register(ScaledPolicyOptions.Descriptor); // the same registration again is harmless
        Assert.Contains(ScaledPolicyOptions.AlgorithmName, Learners.Names);
        Assert.IsType<ScaledPolicyOptions>(Learners.Preset(ScaledPolicyOptions.AlgorithmName, "CartPole-v1"));
        Assert.Equal(["PolicyScale = 0 is outside (0, 10]."], new ScaledPolicyOptions { PolicyScale = 0 }.Problems());

        string dir = TempDirectory();
        try
        {
            var algorithm = new ScaledPolicyOptions { Workers = 2, EnvironmentsPerWorker = 4, RolloutLength = 5, HiddenSizes = [16], Seed = 3, PolicyScale = 0.5 };
            var options = new TrainingOptions { Algorithm = algorithm, MaxSteps = 400, CheckpointDirectory = dir };
            var result = await Training.Start(Sys, options).Completion.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(StopReason.StepBudgetExhausted, result.Reason);
            Assert.Equal(10, result.Progress.Version); // 400 steps in rounds of 2 x 4 x 5
            var saved = Checkpoint.Load(Path.Combine(dir, "last.ckpt"));
            Assert.Equal(ScaledPolicyOptions.AlgorithmName, saved.Algorithm);
            Assert.Equal(algorithm with { HiddenSizes = saved.Options!.HiddenSizes }, saved.Options);
            Assert.Equal(algorithm.HiddenSizes, saved.Options.HiddenSizes);
            Assert.Equal(result.Parameters, saved.Parameters);

            // It resumes like a built-in algorithm: the learner it makes takes the saved optimizer state.
            using var learner = Learners.Create(saved.Options, saved.Spec);
            learner.LoadOptimizerState(saved.OptimizerState!);
            Assert.IsType<ScaledPolicyLearner>(learner);

            Assert.Equal("0.5", TensorBoardLog.Hyperparameters(options)["policy_scale"]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void An_unregistered_algorithm_is_refused_in_one_line_wherever_it_is_named()
    {
        const string Refusal = "algorithm 'never-registered' is not registered in this process (registered: a2c, ppo, impala";
        var problems = new TrainingOptions { Algorithm = new UnregisteredOptions() }.Problems();
        Assert.Single(problems);
        Assert.StartsWith("Algorithm: UnregisteredOptions's " + Refusal, problems[0]);
        Assert.Throws<OptionsValidationException>(() => Training.Start(Sys, new TrainingOptions { Algorithm = new UnregisteredOptions() }));

        Assert.StartsWith("UnregisteredOptions: " + Refusal,
            Assert.Throws<ArgumentException>(() => Learners.Create(new UnregisteredOptions(), new NetworkSpec(4, [8], 2, false))).Message);
        Assert.StartsWith(Refusal, Assert.Throws<ArgumentException>(() => Learners.Preset("never-registered", "CartPole-v1")).Message);
        var checkpoint = new Checkpoint(new NetworkSpec(4, [8], 2, false), new float[10], new Dictionary<string, string>()) { Options = new UnregisteredOptions() };
        Assert.StartsWith("Cannot save UnregisteredOptions: " + Refusal,
            Assert.Throws<InvalidOperationException>(() => checkpoint.Save(Path.Combine(Path.GetTempPath(), "never-written.ckpt"))).Message);
    }

    [Fact]
    public async Task The_custom_algorithm_sample_learns_CartPole()
    {
        // samples/CustomAlgorithm's REINFORCE with a baseline, at its CartPole preset: a random policy averages about 22;
        // seed 1 passes 100 at about 28,000 steps.
        Algorithms.Register(Reinforce.Descriptor);
        var options = new TrainingOptions
        {
            Algorithm = Learners.Preset(ReinforceOptions.AlgorithmName, "CartPole-v1") with { Seed = 1 },
            MaxSteps = 60_000,
            TargetMeanReturn = 100,
        };
        var result = await Training.Start(Sys, options).Completion.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(result.Solved, $"{result.Reason} at {result.Progress.Steps} steps, mean return {result.Progress.MeanReturn}");
    }
}
