using TorchSharp;
using TorchSharp.Modules;

namespace Advantage.Learning;

/// <summary>The optimizer every learner builds from the shared <see cref="AlgorithmOptions"/>, made in one place so algorithms cannot drift apart.</summary>
internal static class Optimizers
{
    /// <summary>RMSprop (alpha, eps) or Adam (eps) over <paramref name="trainable"/> at the options' learning rate.</summary>
    public static torch.optim.Optimizer Create(AlgorithmOptions options, Parameter[] trainable) => options.Optimizer switch
    {
        OptimizerKind.Adam => torch.optim.Adam(trainable, options.LearningRate, eps: options.OptimizerEpsilon),
        _ => torch.optim.RMSProp(trainable, options.LearningRate, alpha: options.RmsPropAlpha, eps: options.OptimizerEpsilon),
    };
}
