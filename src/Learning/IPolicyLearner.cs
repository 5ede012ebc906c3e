using Advantage.Environments;
using Advantage.Learning.Networks;

namespace Advantage.Learning;

/// <summary>
/// The seam between the actors and an algorithm: what the learner actor, checkpoints and the cluster learner need
/// from an update rule, and nothing about which rule it is. One round's rollouts go in, fresh parameters (and the
/// observation statistics workers normalise with) come out; optimizer state travels as bytes so a checkpoint can
/// continue any algorithm exactly. Make one with <see cref="Learners.Create"/>.
/// </summary>
public interface IPolicyLearner : IDisposable
{
    /// <summary>The validated options this learner was built with; their concrete type names the algorithm.</summary>
    AlgorithmOptions Options { get; }

    /// <summary>The network sizes.</summary>
    NetworkSpec Spec { get; }

    /// <summary>The parameter layout and flat read/write access; what workers receive after each update.</summary>
    ParameterVector Parameters { get; }

    /// <summary>
    /// The observation statistics workers normalise with, or null when observation normalisation is off. Read it
    /// after an update and send it with those parameters: the next update assumes the workers used exactly this.
    /// </summary>
    NormalizerState? ObservationStatistics { get; }

    /// <summary>Replaces the observation statistics (resuming from a checkpoint).</summary>
    /// <exception cref="InvalidOperationException">Observation normalisation is off.</exception>
    void RestoreObservationStatistics(NormalizerState state);

    /// <summary>
    /// Tells the learner how far the run is before an update: <paramref name="steps"/> environment steps including the
    /// batch about to be passed to <see cref="Update"/>, of <paramref name="stepBudget"/>. Schedules
    /// (<see cref="AlgorithmOptions.LearningRateSchedule"/>, <see cref="PpoOptions.ClipRangeSchedule"/>) read it; the
    /// learner actor calls it with the run's counters, which a checkpoint keeps, so a resumed run continues its
    /// schedules exactly where it stopped. A learner with only constant schedules needs no call.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Steps are negative or the budget is below 1.</exception>
    void SetTrainingProgress(long steps, long stepBudget);

    /// <summary>
    /// One update from one round's rollouts. Columns are laid out in the order given: in a synchronous round
    /// (A2C, PPO) all were collected with the current parameters and the learner's synchronous round policy sorts them
    /// by worker id, which keeps a seeded run reproducible (ARCHITECTURE.md, One synchronous round); in an asynchronous one (IMPALA) they come in arrival order, each with
    /// the version and behaviour log-probabilities it was collected with. Every rollout must have the same T.
    /// </summary>
    UpdateMetrics Update(IReadOnlyList<Rollout> batch);

    /// <summary>The optimizer's running state as bytes (TorchSharp's <c>save_state_dict</c> format).</summary>
    byte[] SaveOptimizerState();

    /// <summary>Replaces the optimizer's state with bytes from <see cref="SaveOptimizerState"/> of a learner with the same options and spec.</summary>
    /// <exception cref="InvalidDataException">The bytes do not fit this learner's optimizer.</exception>
    void LoadOptimizerState(byte[] state);
}

/// <summary>
/// The one factory from an algorithm's options to its learner, so callers never name the algorithm: it looks the options'
/// type up in <see cref="Algorithms"/>, where built-in and user algorithms are registered alike.
/// </summary>
public static class Learners
{
    /// <summary>Validates <paramref name="options"/> and creates the learner of their registered algorithm, with a seeded network.</summary>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    /// <exception cref="ArgumentException">The options' type is not a registered algorithm's.</exception>
    public static IPolicyLearner Create(AlgorithmOptions options, NetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(spec);
        var descriptor = Algorithms.Of(options)
            ?? throw new ArgumentException($"{options.GetType().Name}: {Algorithms.NotRegistered(options.Algorithm)}", nameof(options));
        options.Validate();
        return descriptor.CreateLearner(options, spec);
    }

    /// <summary>The names <c>--algo</c> and a checkpoint's <c>algorithm</c> field take: every registered algorithm's.</summary>
    public static IReadOnlyList<string> Names => Algorithms.Names;

    /// <summary>The options an algorithm starts from on an environment: its measured preset, or its defaults.</summary>
    /// <exception cref="ArgumentException">No algorithm of that name is registered.</exception>
    public static AlgorithmOptions Preset(string algorithm, string environmentId)
    {
        ArgumentNullException.ThrowIfNull(environmentId);
        return Algorithms.Get(algorithm).Preset(environmentId);
    }
}
