using TorchSharp;
using static TorchSharp.torch;
using TorchSharp.Modules;

namespace Advantage.Learning;

/// <summary>
/// Captures and restores the trainable state of a learner (weights and the optimizer's running statistics:
/// RMSprop's square averages or Adam's moments, and their step counts). Restoring both is what makes a resumed
/// update bit-identical to the one an uninterrupted run would have taken; weights alone would restart the
/// optimizer's averages from zero and take different steps.
/// </summary>
public static class LearnerState
{
    /// <summary>
    /// Loads a checkpoint's weights and, when present, its optimizer state and (for a learner that normalises
    /// observations) its observation statistics into <paramref name="learner"/>.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The checkpoint's network spec differs from the learner's, or it was trained by another algorithm (its optimizer
    /// state and options mean something else there).
    /// </exception>
    public static void Restore(IPolicyLearner learner, Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!checkpoint.Spec.Equals(learner.Spec))
            throw new ArgumentException($"The checkpoint's network {Describe(checkpoint.Spec)} differs from this run's {Describe(learner.Spec)}.", nameof(checkpoint));
        if (AlgorithmMismatch(checkpoint, learner.Options) is { } mismatch) throw new ArgumentException(mismatch, nameof(checkpoint));
        learner.Parameters.Write(checkpoint.Parameters);
        if (checkpoint.OptimizerState is not null) learner.LoadOptimizerState(checkpoint.OptimizerState);
        if (checkpoint.ObservationStatistics is { } statistics && learner.Options.NormalizeObservations)
            learner.RestoreObservationStatistics(statistics);
    }

    /// <summary>
    /// Why <paramref name="checkpoint"/> cannot continue a run of <paramref name="options"/>' algorithm, or null when it
    /// can (same algorithm, or a checkpoint that names none).
    /// </summary>
    public static string? AlgorithmMismatch(Checkpoint checkpoint, AlgorithmOptions options)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        ArgumentNullException.ThrowIfNull(options);
        return checkpoint.Algorithm is { } saved && saved != options.Algorithm
            ? $"The checkpoint was trained with {saved}, this run trains {options.Algorithm}; a run continues only with the algorithm that wrote its checkpoint (resume with {saved} options, or start afresh)."
            : null;
    }

    internal static byte[] SaveOptimizer(optim.Optimizer optimizer)
    {
        using var memory = new MemoryStream();
        using (var writer = new BinaryWriter(memory, System.Text.Encoding.UTF8, leaveOpen: true))
            Helper(optimizer).save_state_dict(writer);
        return memory.ToArray();
    }

    internal static void LoadOptimizer(optim.Optimizer optimizer, string kind, byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        try
        {
            using var memory = new MemoryStream(state, writable: false);
            using var reader = new BinaryReader(memory);
            Helper(optimizer).load_state_dict(reader);
        }
        catch (Exception e) when (e is not InvalidDataException)
        {
            throw new InvalidDataException($"The optimizer state does not fit this learner's {kind} optimizer: {e.Message}", e);
        }
    }

    private static string Describe(Networks.NetworkSpec spec) =>
        $"({spec.ObservationSize} -> [{string.Join(", ", spec.HiddenSizes)}] -> {spec.ActionSize}{(spec.Continuous ? " Gaussian" : " categorical")})";

    private static OptimizerHelper Helper(optim.Optimizer optimizer) =>
        optimizer as OptimizerHelper
        ?? throw new InvalidOperationException($"Optimizer {optimizer.GetType().Name} cannot save its state.");
}
