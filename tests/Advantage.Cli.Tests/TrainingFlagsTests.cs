using System.CommandLine;
using Advantage.Learning;

namespace Advantage.Cli.Tests;

/// <summary>The one binder from flags to training options: preset first, then every flag given.</summary>
public sealed class TrainingFlagsTests
{
    private static BoundRun Bind(params string[] args)
    {
        var flags = new TrainingFlags();
        var command = new RootCommand();
        flags.AddTo(command);
        return flags.Bind(command.Parse(args));
    }

    [Fact]
    public void No_flags_give_the_environments_preset_and_its_target()
    {
        var bound = Bind();
        Assert.Empty(bound.Problems);
        Assert.Equal(A2CPresets.For("CartPole-v1"), bound.Options!.Algorithm);
        Assert.Equal(475.0, bound.Options.TargetMeanReturn);
        Assert.Equal(500, bound.Options.CheckpointInterval);
        Assert.Equal(5, bound.LogEvery);

        var acrobot = Bind("--env", "Acrobot-v1");
        Assert.Equal(A2CPresets.For("Acrobot-v1"), acrobot.Options!.Algorithm);
        Assert.Null(acrobot.Options.TargetMeanReturn);
    }

    [Fact]
    public void Every_given_flag_overrides_the_preset_and_only_those()
    {
        var a = Bind("--lr", "0.01", "--normalize-advantages", "--normalize-rewards", "false", "--hidden", "32", "16", "--n-step", "--seed", "9").Options!.Algorithm;
        var preset = A2CPresets.For("CartPole-v1");
        Assert.Equal(preset with
        {
            LearningRate = 0.01, NormalizeAdvantages = true, NormalizeRewards = false, HiddenSizes = a.HiddenSizes, Estimator = AdvantageEstimator.NStep, Seed = 9,
        }, a);
        Assert.Equal([32, 16], a.HiddenSizes);
    }

    [Fact]
    public void Separate_networks_follow_the_preset_unless_the_flag_says_otherwise()
    {
        Assert.False(Bind().Options!.Algorithm.SeparateNetworks);
        Assert.True(Bind("--separate-networks", "true").Options!.Algorithm.SeparateNetworks);
        Assert.True(Bind("--algo", "ppo").Options!.Algorithm.SeparateNetworks);
        Assert.False(Bind("--algo", "ppo", "--separate-networks", "false").Options!.Algorithm.SeparateNetworks);
        Assert.True(Bind("--algo", "impala", "--separate-networks", "true").Options!.Algorithm.SeparateNetworks);
    }

    [Fact]
    public void Problems_name_the_flag_and_contradictions_are_refused()
    {
        var bound = Bind("--lr", "0", "--rollout", "0", "--n-step", "--gae-lambda", "0.9", "--log-every", "0");
        Assert.Null(bound.Options);
        Assert.Contains(bound.Problems, p => p.StartsWith("--lr: ", StringComparison.Ordinal));
        Assert.Contains(bound.Problems, p => p.StartsWith("--rollout: ", StringComparison.Ordinal));
        Assert.Contains(bound.Problems, p => p.Contains("--n-step and --gae-lambda contradict", StringComparison.Ordinal));
        Assert.Contains(bound.Problems, p => p.StartsWith("--log-every = 0", StringComparison.Ordinal));
    }

    [Fact]
    public void Given_flags_are_forwarded_as_typed_and_defaults_are_not()
    {
        var flags = new TrainingFlags();
        var command = new RootCommand();
        flags.AddTo(command);
        var parse = command.Parse(["--lr", "0.01", "--hidden", "32", "16", "--quiet"]);
        Assert.Equal(["--lr", "0.01", "--hidden", "32", "16", "--quiet"], flags.Given(parse));
    }

    [Fact]
    public void A_registered_algorithm_gets_algo_its_flags_and_its_help_from_its_descriptor()
    {
        Algorithms.Register(CliTestOptions.Descriptor);
        var bound = Bind("--algo", CliTestOptions.Name, "--temperature", "2.5", "--gamma", "0.9");
        Assert.Empty(bound.Problems);
        var options = Assert.IsType<CliTestOptions>(bound.Options!.Algorithm);
        Assert.Equal((2.5, 0.9), (options.Temperature, options.Gamma));

        Assert.Equal(["--temperature: Algorithm.Temperature = 0 is outside (0, 100]."], Bind("--algo", CliTestOptions.Name, "--temperature", "0").Problems);
        Assert.Equal([$"--temperature applies to --algo {CliTestOptions.Name} only; this run trains a2c."], Bind("--temperature", "2").Problems);

        var command = new RootCommand();
        new TrainingFlags(CliTestOptions.Name).AddTo(command);
        var help = command.Options.Single(o => o.Name == "--temperature").Description;
        Assert.Equal($"Softmax temperature (--algo {CliTestOptions.Name}) [default: the --algo and --env preset; {CliTestOptions.Name} on CartPole-v1: 1.5]", help);
    }
}

/// <summary>An algorithm the CLI knows only through its descriptor (its learner is never made here).</summary>
public sealed record CliTestOptions : AlgorithmOptions
{
    public const string Name = "cli-test";

    public override string Algorithm => Name;

    public double Temperature { get; init; } = 1.5;

    public static AlgorithmDescriptor Descriptor { get; } =
        AlgorithmDescriptor.Create<CliTestOptions>(Name, _ => new CliTestOptions(), (_, _) => throw new NotSupportedException("not trained in this test")) with
        {
            Options = [new(typeof(CliTestOptions), nameof(Temperature), "--temperature", "Softmax temperature") { Range = new(0, 100, MinimumInclusive: false) }],
        };
}
