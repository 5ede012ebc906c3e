using Advantage.Learning.Networks;

namespace Advantage.Learning.Tests.Algorithm;

public class ImpalaOptionsTests
{
    [Fact]
    public void Defaults_are_IMPALAs_and_the_rounds_are_asynchronous()
    {
        var o = new ImpalaOptions();
        Assert.Equal("impala", o.Algorithm);
        Assert.Equal((1.0, 1.0, 1.0, 1.0), (o.TraceLambda, o.RhoBar, o.CBar, o.PgRhoBar));
        Assert.Equal(20, o.MaxLag);
        Assert.Null(o.BatchRollouts);
        Assert.Equal(new AsynchronousRounds(2, 20, 2), o.Asynchrony);
        Assert.Empty(o.Problems());
        // Synchronous algorithms have no asynchrony: that is all the actors ask.
        Assert.Null(new A2COptions().Asynchrony);
        Assert.Null(new PpoOptions().Asynchrony);
    }

    [Fact]
    public void The_batch_defaults_to_one_rollout_per_worker_and_a_worker_may_always_fill_one_alone()
    {
        var o = new ImpalaOptions().WithWorkers(6);
        Assert.Equal(new AsynchronousRounds(6, 20, 6), o.Asynchrony);
        Assert.Equal(new AsynchronousRounds(3, 5, 4), o.WithBatchRollouts(3).WithMaxLag(5).WithRolloutsInFlight(4).Asynchrony);
        Assert.Equal(3, o.WithBatchRollouts(3).WithRolloutsInFlight(1).Asynchrony!.InFlight);
    }

    [Fact]
    public void Validation_names_every_bad_IMPALA_field_with_its_range()
    {
        var o = new ImpalaOptions { TraceLambda = 1.5, RhoBar = 0, CBar = -1, PgRhoBar = double.NaN, MaxLag = -1, BatchRollouts = 0, RolloutsInFlight = 2000 };
        var error = Assert.Throws<OptionsValidationException>(() => o.Validate());
        Assert.Equal(nameof(ImpalaOptions), error.OptionsType);
        Assert.Equal(
        [
            "TraceLambda = 1.5 is outside [0, 1].",
            "RhoBar = 0 is outside (0, 1000000].",
            "CBar = -1 is outside (0, 1000000].",
            "PgRhoBar = NaN is outside (0, 1000000].",
            "MaxLag = -1 is outside [0, 1000000].",
            "BatchRollouts = 0 is outside [1, 1024].",
            "RolloutsInFlight = 2000 is outside [1, 1024].",
        ], error.Problems);
        Assert.Empty(o.WithoutClipping().WithTraceLambda(1).WithMaxLag(0).WithBatchRollouts(1).WithRolloutsInFlight(1).Problems());
    }

    [Fact]
    public void A_checkpoint_keeps_the_IMPALA_options_and_names_the_algorithm()
    {
        string path = Path.Combine(Path.GetTempPath(), "advantage-impala-" + Guid.NewGuid().ToString("N") + ".ckpt");
        try
        {
            var options = ImpalaPresets.For("CartPole-v1").WithMaxLag(7).WithBatchRollouts(3).WithoutClipping().WithSeed(4);
            var spec = new NetworkSpec(4, [8], 2, false);
            new Checkpoint(spec, [1f, 2f], new Dictionary<string, string>()) { Options = options, OptimizerState = [1, 2, 3] }.Save(path);
            var loaded = Checkpoint.Load(path);
            Assert.Equal("impala", loaded.Algorithm);
            var back = Assert.IsType<ImpalaOptions>(loaded.Options);
            Assert.Equal((7, 3, (double?)null, 4), (back.MaxLag, back.BatchRollouts, back.RhoBar, back.Seed));
            Assert.Equal(options.HiddenSizes, back.HiddenSizes);
            Assert.Equal(options with { HiddenSizes = back.HiddenSizes }, back);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Learners_create_IMPALA_from_its_options_and_presets()
    {
        Assert.Contains("impala", Learners.Names);
        Assert.IsType<ImpalaOptions>(Learners.Preset("impala", "CartPole-v1"));
        using var learner = Learners.Create(new ImpalaOptions { HiddenSizes = [8] }, new NetworkSpec(4, [8], 2, false));
        Assert.IsType<ImpalaLearner>(learner);
    }
}
