namespace Advantage.Learning.Tests.Algorithm;

/// <summary>Each option is defined once, and what is derived from the definitions (validation, setting) holds.</summary>
public class OptionDefinitionTests
{
    public static TheoryData<string> Builtin => new() { "a2c", "ppo", "impala" };

    [Theory]
    [MemberData(nameof(Builtin))]
    public void Every_settable_option_of_a_builtin_algorithm_has_one_definition_and_every_flag_one_option(string name)
    {
        var descriptor = Algorithms.Get(name);
        var definitions = AlgorithmOptions.CommonOptions.Concat(descriptor.Options).ToList();
        // IMPALA's estimator is V-trace: the n-step/GAE options are not its (its descriptor leaves them out).
        string[] unused = name == "impala" ? [nameof(AlgorithmOptions.Estimator), nameof(AlgorithmOptions.GaeLambda)] : [];
        var settable = descriptor.OptionsType.GetProperties().Where(p => p.SetMethod is { IsPublic: true }).Select(p => p.Name).Except(unused).Order().ToArray();
        Assert.Equal(settable, definitions.Select(d => d.Field).Distinct().Order().ToArray());
        Assert.Equal(definitions.Count, definitions.Select(d => d.Field).Distinct().Count());
        var flags = definitions.Select(d => d.Flag).OfType<string>().ToArray();
        Assert.Equal(flags.Length, flags.Distinct().Count());
        Assert.All(definitions, d => Assert.False(string.IsNullOrWhiteSpace(d.Help), d.Field));
        Assert.Empty(descriptor.Preset("CartPole-v1").Problems());
    }

    [Fact]
    public void Setting_through_a_definition_keeps_the_records_type_and_what_the_option_implies()
    {
        var gae = AlgorithmOptions.EstimatorOptions.Single(o => o.Flag == "--gae-lambda");
        var ppo = Assert.IsType<PpoOptions>(gae.Set(new PpoOptions { Estimator = AdvantageEstimator.NStep }, 0.7));
        Assert.Equal((AdvantageEstimator.Gae, 0.7), (ppo.Estimator, ppo.GaeLambda));

        var lr = AlgorithmOptions.CommonOptions.Single(o => o.Flag == "--lr");
        Assert.Equal(0.25, lr.Parse("0.25"));
        Assert.Equal("--lr: 'fast' is not a number.", Assert.Throws<FormatException>(() => lr.Parse("fast")).Message);
        var optimizer = AlgorithmOptions.CommonOptions.Single(o => o.Flag == "--optimizer");
        Assert.Equal(OptimizerKind.Adam, optimizer.Parse("adam"));

        // The shared WithX, defined once, keep the concrete type for every record (F# chains need it).
        ImpalaOptions impala = new ImpalaOptions().WithRmsPropAlpha(0.9).WithOptimizerEpsilon(1e-6).WithTraceLambda(0.5);
        Assert.Equal((0.9, 1e-6, 0.5), (impala.RmsPropAlpha, impala.OptimizerEpsilon, impala.TraceLambda));
    }
}
