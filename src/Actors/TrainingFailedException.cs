namespace Advantage.Actors;

/// <summary>
/// The run failed: something in the learner threw (the update, a checkpoint write, a stop condition, a progress
/// callback). <see cref="Exception.InnerException"/> is the cause; <see cref="Result"/> is where the run stood,
/// with <see cref="StopReason.Failed"/>, so a host can still report it and resume from the last checkpoint.
/// </summary>
public sealed class TrainingFailedException : Exception
{
    /// <summary>Creates the exception for a run that ended at <paramref name="result"/> because of <paramref name="cause"/>.</summary>
    public TrainingFailedException(TrainingResult result, Exception cause)
        : base($"Training failed after {result?.Progress.Steps ?? 0} steps: {cause?.Message}", cause)
    {
        ArgumentNullException.ThrowIfNull(result);
        Result = result;
    }

    /// <summary>Where the run stood when it failed.</summary>
    public TrainingResult Result { get; }
}
