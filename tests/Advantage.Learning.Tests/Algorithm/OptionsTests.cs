namespace Advantage.Learning.Tests.Algorithm;

public class OptionsTests
{
    [Fact]
    public void Defaults_are_pinned()
    {
        var o = new A2COptions();
        Assert.Equal(0.99, o.Gamma);
        Assert.Equal(AdvantageEstimator.NStep, o.Estimator);
        Assert.Equal(0.95, o.GaeLambda);
        Assert.Equal(5, o.RolloutLength);
        Assert.Equal(7e-4, o.LearningRate);
        Assert.Equal(0.0, o.EntropyCoefficient);
        Assert.Equal(0.5, o.ValueCoefficient);
        Assert.Equal(0.5, o.MaxGradNorm);
        Assert.False(o.NormalizeAdvantages);
        Assert.Equal(OptimizerKind.RmsProp, o.Optimizer);
        Assert.Equal(0.99, o.RmsPropAlpha);
        Assert.Equal(1e-5, o.OptimizerEpsilon);
        Assert.Equal([64, 64], o.HiddenSizes);
        Assert.Equal(2, o.Workers);
        Assert.Equal(8, o.EnvironmentsPerWorker);
        Assert.Equal(1, o.Seed);
        Assert.Equal("cpu", o.Device);
        Assert.Empty(o.Problems());
    }

    [Fact]
    public void Validation_reports_every_bad_field_with_its_allowed_range()
    {
        var o = new A2COptions
        {
            Gamma = -0.1,
            GaeLambda = double.NaN,
            RolloutLength = 0,
            LearningRate = 0,
            EntropyCoefficient = 2,
            ValueCoefficient = -1,
            MaxGradNorm = 0,
            RmsPropAlpha = 1,
            OptimizerEpsilon = 0,
            HiddenSizes = [64, 0],
            Workers = 2000,
            EnvironmentsPerWorker = 0,
            Device = "tpu",
        };
        var error = Assert.Throws<OptionsValidationException>(() => o.Validate());
        Assert.Equal(nameof(A2COptions), error.OptionsType);
        Assert.Equal(
        [
            // In the order of the definitions (AlgorithmOptions.CommonOptions, then A2C's estimator options).
            "Workers = 2000 is outside [1, 1024].",
            "EnvironmentsPerWorker = 0 is outside [1, 4096].",
            "RolloutLength = 0 is outside [1, 10000].",
            "Gamma = -0.1 is outside [0, 1].",
            "LearningRate = 0 is outside (0, 1].",
            "EntropyCoefficient = 2 is outside [0, 1].",
            "ValueCoefficient = -1 is outside [0, 100].",
            "MaxGradNorm = 0 is outside (0, 1000000].",
            "RmsPropAlpha = 1 is outside (0, 1).",
            "OptimizerEpsilon = 0 is outside (0, 1).",
            "HiddenSizes = [64, 0] has a value outside [1, 65536].",
            "Device = 'tpu' must be 'cpu', 'cuda', 'cuda:N' or 'mps'.",
            "GaeLambda = NaN is outside [0, 1].",
        ], error.Problems);
        Assert.StartsWith("Invalid A2COptions:", error.Message);
    }

    [Fact]
    public void With_methods_change_one_field_and_leave_the_original_alone()
    {
        var o = new A2COptions();
        var gae = o.WithGae(0.9).WithLearningRate(1e-3).WithHiddenSizes([32]);
        Assert.Equal(AdvantageEstimator.Gae, gae.Estimator);
        Assert.Equal(0.9, gae.GaeLambda);
        Assert.Equal(1e-3, gae.LearningRate);
        Assert.Equal([32], gae.HiddenSizes);
        Assert.Equal(AdvantageEstimator.NStep, o.Estimator);
        Assert.Equal(AdvantageEstimator.NStep, gae.WithNStep().Estimator);
    }
}
