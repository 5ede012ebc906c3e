namespace Advantage.Actors;

/// <summary>
/// Asks a <see cref="PolicyServer"/> for actions: one observation or several, answered by one <see cref="Acted"/> (or one
/// <see cref="ActRejected"/>) sent to the sender, carrying the same <see cref="RequestId"/> so a requester with several
/// requests in flight can match replies. Requests that arrive together are answered from one forward pass. Crosses the
/// cluster through Advantage's binary serializer. Immutable; F# callers use the <c>WithX</c> methods.
/// </summary>
/// <param name="RequestId">Chosen by the requester; copied into the reply.</param>
/// <param name="Observations">
/// Raw observations as the environment writes them (the server normalises them as the run did), one after another:
/// <c>ObservationSize</c> finite floats each, between 1 and the server's <see cref="PolicyServerOptions.MaxBatch"/> of
/// them. One flat array, so a request of one observation is the observation itself and nothing is allocated per row.
/// In one process the array is not copied: the server reads it when it answers, so do not write to it after sending
/// (send a copy of an observation buffer your environment overwrites).
/// </param>
public sealed record Act(long RequestId, float[] Observations) : IAdvantageMessage
{
    /// <summary>
    /// True (the default) for the policy's best action: the argmax of a categorical head, the mean of a Gaussian one
    /// (clipped to the action bounds). False samples from the policy's distribution, as the run's workers did.
    /// </summary>
    public bool Deterministic { get; init; } = true;

    /// <summary>
    /// Sampled requests only: seeds the draws for this request's rows, in order, so the same request gets the same actions
    /// whatever else shares its batch (and the same as a <c>TrainedPolicy</c> loaded with this seed acting on these rows).
    /// Null draws from the server's own stream, seeded by <see cref="PolicyServerOptions.Seed"/>.
    /// </summary>
    public int? Seed { get; init; }

    /// <summary>True to receive the critic's value of each observation in <see cref="Acted.Values"/>.</summary>
    public bool IncludeValues { get; init; }

    /// <summary>True to receive a categorical policy's action probabilities in <see cref="Acted.Probabilities"/>.</summary>
    public bool IncludeProbabilities { get; init; }

    /// <summary>A request for several observations' actions (their floats laid one after another).</summary>
    public static Act Many(long requestId, IEnumerable<float[]> observations)
    {
        ArgumentNullException.ThrowIfNull(observations);
        return new Act(requestId, observations.SelectMany(o => o).ToArray());
    }

    /// <summary>Returns a copy with <see cref="Deterministic"/> changed.</summary>
    public Act WithDeterministic(bool value) => this with { Deterministic = value };

    /// <summary>Returns a copy with <see cref="Seed"/> changed (null: the server's own stream).</summary>
    public Act WithSeed(int? value) => this with { Seed = value };

    /// <summary>Returns a copy with <see cref="IncludeValues"/> changed.</summary>
    public Act WithValues(bool value) => this with { IncludeValues = value };

    /// <summary>Returns a copy with <see cref="IncludeProbabilities"/> changed.</summary>
    public Act WithProbabilities(bool value) => this with { IncludeProbabilities = value };
}

/// <summary>The answer to an <see cref="Act"/>: one action per observation, in the request's order, laid one after another.</summary>
/// <param name="RequestId">The request's id.</param>
/// <param name="Version">
/// The parameter version that answered: the learner's version for a followed run, the checkpoint's (its progress
/// version, 0 for a bare model) before the first broadcast arrived.
/// </param>
/// <param name="ActionWidth">Floats per action: 1 (the index) for a categorical policy, the dimensions for a Gaussian one.</param>
/// <param name="Actions">
/// <see cref="Count"/> x <paramref name="ActionWidth"/> floats: a discrete action's index as a float, or a Gaussian action
/// clipped to the bounds.
/// </param>
public sealed record Acted(long RequestId, long Version, int ActionWidth, float[] Actions) : IAdvantageMessage
{
    /// <summary>The critic's value per observation when the request asked (<see cref="Act.IncludeValues"/>); else empty.</summary>
    public float[] Values { get; init; } = [];

    /// <summary>
    /// A categorical policy's action probabilities when the request asked (<see cref="Act.IncludeProbabilities"/>):
    /// <see cref="Count"/> rows of one probability per action, laid one after another; else empty (always for a Gaussian head).
    /// </summary>
    public float[] Probabilities { get; init; } = [];

    /// <summary>Observations answered.</summary>
    public int Count => ActionWidth == 0 ? 0 : Actions.Length / ActionWidth;

    /// <summary>The action for observation <paramref name="row"/> (a copy of its <see cref="ActionWidth"/> floats).</summary>
    public float[] Action(int row) => Actions.AsSpan(row * ActionWidth, ActionWidth).ToArray();

    /// <summary>A categorical policy's action for observation <paramref name="row"/> as an index.</summary>
    public int ActionIndex(int row) => (int)Actions[row * ActionWidth];
}

/// <summary>
/// An <see cref="Act"/> the server could not answer, and why: the field and the allowed range. The server keeps
/// serving; nothing else in the batch is affected.
/// </summary>
/// <param name="RequestId">The request's id.</param>
/// <param name="Reason">One line naming the field (e.g. <c>Observations[2]</c>) and what it must be.</param>
public sealed record ActRejected(long RequestId, string Reason) : IAdvantageMessage;

/// <summary>
/// Sent to a learner by whoever wants every new parameter version (a <see cref="PolicyServer"/> that follows a run):
/// the learner watches the sender, sends it the current <see cref="Parameters"/> at once and each new version after
/// every update, as it sends its workers, without counting it as a worker.
/// </summary>
public sealed record FollowParameters : IAdvantageMessage
{
    /// <summary>The one instance.</summary>
    public static FollowParameters Instance { get; } = new();

    private FollowParameters() { }
}

/// <summary>Asks a <see cref="PolicyServer"/> for its <see cref="PolicyServerStats"/>.</summary>
public sealed record GetPolicyServerStats : IAdvantageMessage
{
    /// <summary>The one instance.</summary>
    public static GetPolicyServerStats Instance { get; } = new();

    private GetPolicyServerStats() { }
}

/// <summary>What a <see cref="PolicyServer"/> has done since it started: how well requests batched, and what it serves.</summary>
/// <param name="Requests">Requests answered (not counting rejected ones).</param>
/// <param name="Decisions">Observations answered.</param>
/// <param name="Batches">Forward passes run.</param>
/// <param name="LargestBatch">Most observations in one forward pass.</param>
/// <param name="Rejected">Requests rejected as malformed.</param>
/// <param name="Version">The parameter version answering now.</param>
/// <param name="Swaps">Parameter versions swapped in since the start.</param>
public sealed record PolicyServerStats(long Requests, long Decisions, long Batches, int LargestBatch, long Rejected, long Version, long Swaps) : IAdvantageMessage
{
    /// <summary>Mean observations per forward pass; 0 before the first.</summary>
    public double MeanBatch => Batches == 0 ? 0 : (double)Decisions / Batches;
}
