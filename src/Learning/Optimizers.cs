using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Advantage.Learning;

/// <summary>The optimizer every learner builds from the shared <see cref="AlgorithmOptions"/>, made in one place so algorithms cannot drift apart.</summary>
internal static class Optimizers
{
    /// <summary>RMSprop (alpha, eps) or Adam (eps) over <paramref name="trainable"/> at the options' learning rate.</summary>
    public static optim.Optimizer Create(AlgorithmOptions options, Parameter[] trainable) => options.Optimizer switch
    {
        OptimizerKind.Adam => new KeptScalarsAdam(trainable, options.LearningRate, options.OptimizerEpsilon),
        _ => new KeptScalarsRmsProp(trainable, options.LearningRate, options.RmsPropAlpha, options.OptimizerEpsilon),
    };
}

/// <summary>
/// TorchSharp's RMSprop (its options, state and saved state unchanged) whose step holds its scalars alive.
/// </summary>
/// <remarks>
/// TorchSharp's own step turns alpha, 1 - alpha, eps and -lr into a temporary native <see cref="Scalar"/> per call and
/// passes only its handle on; nothing keeps the temporary reachable during the native call, so a collection on another
/// thread can finalize it (free it) while libtorch reads it: "Expected false to be true ... toFloat at
/// c10/core/Scalar.h:140", which ended a cluster IMPALA learner (issue 22). Here the scalars are fields, made once
/// (-lr again when the schedule changes it). The arithmetic is TorchSharp's plain path (no momentum, not centered, no
/// weight decay: what <see cref="Optimizers.Create"/> builds), operation for operation, so results are bit-identical.
/// </remarks>
internal sealed class KeptScalarsRmsProp : RMSProp
{
    private readonly Scalar alpha;
    private readonly Scalar oneMinusAlpha;
    private readonly Scalar eps;
    private Scalar negativeRate;
    private double rate;

    public KeptScalarsRmsProp(IEnumerable<Parameter> parameters, double learningRate, double alpha, double eps)
        : base(parameters, learningRate, alpha, eps)
    {
        this.alpha = alpha.ToScalar();
        oneMinusAlpha = (1 - alpha).ToScalar();
        this.eps = eps.ToScalar();
        rate = learningRate;
        negativeRate = (-learningRate).ToScalar();
    }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        double lr = group.Options.LearningRate!.Value;
        if (lr != rate)
        {
            negativeRate.Dispose();
            negativeRate = (-lr).ToScalar();
            rate = lr;
        }
        foreach (var param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            var grad = param.grad;
            if (grad is null) continue;
            state.step += 1;
            state.square_avg.mul_(alpha).addcmul_(grad, grad, oneMinusAlpha);
            using var avg = state.square_avg.sqrt().add_(eps, KeptScalars.One);
            param.addcdiv_(grad, avg, negativeRate);
        }
    }, closure);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing) return;
        alpha.Dispose();
        oneMinusAlpha.Dispose();
        eps.Dispose();
        negativeRate.Dispose();
    }
}

/// <summary>
/// TorchSharp's Adam (its options, state and saved state unchanged) whose step holds its scalars alive; see
/// <see cref="KeptScalarsRmsProp"/> for why. The bias corrections change every step, so those scalars live for the step.
/// The arithmetic is TorchSharp's plain path (no AMSGrad, no weight decay), operation for operation.
/// </summary>
internal sealed class KeptScalarsAdam : Adam
{
    private readonly double beta1 = 0.9, beta2 = 0.999;
    private readonly Scalar beta1Scalar, oneMinusBeta1, beta2Scalar, oneMinusBeta2, eps;

    public KeptScalarsAdam(IEnumerable<Parameter> parameters, double learningRate, double eps)
        : base(parameters, learningRate, beta1: 0.9, beta2: 0.999, eps: eps)
    {
        beta1Scalar = beta1.ToScalar();
        oneMinusBeta1 = (1 - beta1).ToScalar();
        beta2Scalar = beta2.ToScalar();
        oneMinusBeta2 = (1 - beta2).ToScalar();
        this.eps = eps.ToScalar();
    }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        double lr = group.Options.LearningRate!.Value;
        foreach (var param in group.Parameters)
        {
            var state = (State)_state[param.Handle];
            var grad = param.grad;
            if (grad is null) continue;
            state.step += 1;
            double biasCorrection1 = 1 - Math.Pow(beta1, state.step);
            double biasCorrection2 = 1 - Math.Pow(beta2, state.step);
            state.exp_avg.mul_(beta1Scalar).add_(grad, oneMinusBeta1);
            state.exp_avg_sq.mul_(beta2Scalar).addcmul_(grad, grad.conj(), oneMinusBeta2);
            using var correction = Math.Sqrt(biasCorrection2).ToScalar();
            using var root = state.exp_avg_sq.sqrt();
            using var denominator = root.div(correction).add_(eps, KeptScalars.One);
            using var stepSize = (-(lr / biasCorrection1)).ToScalar();
            param.addcdiv_(state.exp_avg, denominator, stepSize);
        }
    }, closure);

    /// <summary>The step count and first and second moments of <paramref name="param"/>, copied out (a replayed round converts them between network layouts).</summary>
    internal (long Step, float[] ExpAvg, float[] ExpAvgSq) Moments(Parameter param)
    {
        var state = (State)_state[param.Handle];
        return (state.step, state.exp_avg.data<float>().ToArray(), state.exp_avg_sq.data<float>().ToArray());
    }

    /// <summary>Replaces <paramref name="param"/>'s step count and moments with ones of its length.</summary>
    internal void SetMoments(Parameter param, long step, float[] expAvg, float[] expAvgSq)
    {
        var state = (State)_state[param.Handle];
        state.step = step;
        using var noGrad = torch.no_grad();
        using var first = torch.tensor(expAvg);
        using var second = torch.tensor(expAvgSq);
        state.exp_avg.copy_(first);
        state.exp_avg_sq.copy_(second);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing) return;
        beta1Scalar.Dispose();
        oneMinusBeta1.Dispose();
        beta2Scalar.Dispose();
        oneMinusBeta2.Dispose();
        eps.Dispose();
    }
}
