using TorchSharp.Modules;

namespace Advantage.Learning;

/// <summary>
/// Captures and restores the trainable state of an <see cref="A2CLearner"/> (weights and the optimizer's
/// running statistics: RMSprop's square averages or Adam's moments, and their step counts). Restoring both
/// is what makes a resumed update bit-identical to the one an uninterrupted run would have taken; weights
/// alone would restart the optimizer's averages from zero and take different steps.
/// </summary>
public static class LearnerState
{
    /// <summary>The optimizer's state as bytes (TorchSharp's <c>save_state_dict</c> format).</summary>
    public static byte[] SaveOptimizer(A2CLearner learner)
    {
        ArgumentNullException.ThrowIfNull(learner);
        using var memory = new MemoryStream();
        using (var writer = new BinaryWriter(memory, System.Text.Encoding.UTF8, leaveOpen: true))
            Helper(learner).save_state_dict(writer);
        return memory.ToArray();
    }

    /// <summary>Replaces the optimizer's state with bytes from <see cref="SaveOptimizer"/> of a learner with the same options and spec.</summary>
    /// <exception cref="InvalidDataException">The bytes do not fit this learner's optimizer.</exception>
    public static void LoadOptimizer(A2CLearner learner, byte[] state)
    {
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentNullException.ThrowIfNull(state);
        try
        {
            using var memory = new MemoryStream(state, writable: false);
            using var reader = new BinaryReader(memory);
            Helper(learner).load_state_dict(reader);
        }
        catch (Exception e) when (e is not InvalidDataException)
        {
            throw new InvalidDataException($"The optimizer state does not fit this learner's {learner.Options.Optimizer} optimizer: {e.Message}", e);
        }
    }

    /// <summary>
    /// Loads a checkpoint's weights and, when present, its optimizer state and (for a learner that normalises
    /// observations) its observation statistics into <paramref name="learner"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The checkpoint's network spec differs from the learner's.</exception>
    public static void Restore(A2CLearner learner, Checkpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!checkpoint.Spec.Equals(learner.Spec))
            throw new ArgumentException($"The checkpoint's network {Describe(checkpoint.Spec)} differs from this run's {Describe(learner.Spec)}.", nameof(checkpoint));
        learner.Parameters.Write(checkpoint.Parameters);
        if (checkpoint.OptimizerState is not null) LoadOptimizer(learner, checkpoint.OptimizerState);
        if (checkpoint.ObservationStatistics is { } statistics && learner.Options.NormalizeObservations)
            learner.RestoreObservationStatistics(statistics);
    }

    private static string Describe(Networks.NetworkSpec spec) =>
        $"({spec.ObservationSize} -> [{string.Join(", ", spec.HiddenSizes)}] -> {spec.ActionSize}{(spec.Continuous ? " Gaussian" : " categorical")})";

    private static OptimizerHelper Helper(A2CLearner learner) =>
        learner.Optimizer as OptimizerHelper
        ?? throw new InvalidOperationException($"Optimizer {learner.Optimizer.GetType().Name} cannot save its state.");
}
