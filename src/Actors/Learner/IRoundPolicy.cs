using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Actors;

/// <summary>
/// How the learner's rounds run: what it does with an arriving rollout, when a batch is ready, and what it sends a
/// worker after an update. <see cref="SynchronousRoundPolicy"/> (A2C, PPO) waits for every live worker's rollout of the
/// current version; <see cref="AsynchronousRoundPolicy"/> (IMPALA) takes batches in arrival order. The learner actor
/// picks one through <see cref="RoundPolicy.For"/> from <see cref="AlgorithmOptions.Asynchrony"/> and never names the
/// algorithm (ARCHITECTURE.md, One synchronous round). Holds no Akka context, so each is tested with plain refs.
/// </summary>
internal interface IRoundPolicy
{
    /// <summary>The live workers (shared with the learner, which registers and removes them through the policy).</summary>
    WorkerRoster Workers { get; }

    /// <summary>Adds or refreshes a worker; true when it is new. A re-registering worker has no rollout of the round any more.</summary>
    bool Register(IActorRef worker, RegisterWorker registration);

    /// <summary>Forgets a worker (it died) and whatever the round kept for it; its registration, or null when it was unknown.</summary>
    RegisterWorker? Remove(IActorRef worker);

    /// <summary>
    /// Takes the worker's rollout into the round when it is valid for it, or says what the learner does instead (see
    /// <see cref="RolloutVerdict"/>). <paramref name="started"/>: whether rounds have begun (before, a rollout gets no answer).
    /// </summary>
    RolloutVerdict Offer(IActorRef worker, RolloutCollected message, long version, bool started);

    /// <summary>The next batch to update on once one is ready (and taken out of the round); else null.</summary>
    Rollout[]? TakeBatch();

    /// <summary>The update's metrics with what the round adds to them (the asynchronous lag); <paramref name="version"/> is the one the batch was applied to.</summary>
    UpdateMetrics Describe(UpdateMetrics metrics, Rollout[] batch, long version);

    /// <summary>What <paramref name="worker"/> is sent of <paramref name="parameters"/> (the asynchronous policy adds its acknowledgements).</summary>
    Parameters For(IActorRef worker, Parameters parameters);

    /// <summary>
    /// The workers' states saved with the rollouts of the update that made version <paramref name="at"/>: what lets a resume
    /// continue their episodes. Null when none were (a checkpoint between intervals, asynchronous rounds).
    /// </summary>
    WorkerSavedState[]? SavedWorkerStates(long at);
}

/// <summary>
/// What becomes of an arriving rollout. <see cref="Problem"/> null: it is in the round. Otherwise it is dropped and
/// counted: with a warning, or quietly when <see cref="Late"/> (an asynchronous rollout past MaxLag, expected now and
/// then); then the learner sends the worker the current parameters when <see cref="Resend"/>, and a
/// <see cref="RolloutRefused"/> with <see cref="Refusal"/> when its contents were bad (the worker restarts with fresh
/// environments, so a round never waits for a rollout that will not come).
/// </summary>
internal readonly record struct RolloutVerdict(string? Problem, bool Late = false, bool Resend = false, string? Refusal = null)
{
    /// <summary>The rollout is in the round.</summary>
    public static RolloutVerdict Accepted => default;
}

/// <summary>Chooses the round policy for an algorithm's options.</summary>
internal static class RoundPolicy
{
    /// <summary>
    /// Asynchronous rounds when <paramref name="algorithm"/> declares <see cref="AlgorithmOptions.Asynchrony"/>, synchronous
    /// ones otherwise; <paramref name="validate"/> says what is wrong with a rollout's contents (null when nothing is).
    /// </summary>
    public static IRoundPolicy For(AlgorithmOptions algorithm, Func<Rollout, string?> validate) =>
        algorithm.Asynchrony is { } shape
            ? new AsynchronousRoundPolicy(new WorkerRoster(), shape, validate)
            : new SynchronousRoundPolicy(new WorkerRoster(), validate);
}
