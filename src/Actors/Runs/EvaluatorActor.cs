using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using Akka.Actor;

namespace Advantage.Actors;

/// <summary>
/// Evaluates snapshots of the learner's parameters on environments of its own with deterministic actions,
/// in parallel with training (rounds never wait for it), and replies to the learner with the score and the
/// snapshot it scored. It keeps no state between evaluations: the best score so far and <c>best.ckpt</c> belong to the
/// learner, so a restarted evaluator cannot forget the best and let a worse model overwrite it. An evaluation that
/// throws (its environment, its network) is answered with <see cref="EvaluationFailed"/>, and training goes on.
/// </summary>
internal sealed class EvaluatorActor : ReceiveActor
{
    /// <summary>Evaluate this snapshot.</summary>
    internal sealed record Evaluate(long Version, long Steps, Checkpoint Snapshot);

    /// <summary>The outcome, with the snapshot scored (the learner keeps it as <c>best.ckpt</c> when it is the best so far).</summary>
    internal sealed record Evaluated(long Version, long Steps, EvaluationResult Result, Checkpoint Snapshot);

    /// <summary>The evaluation of <paramref name="Version"/> threw; nothing was scored.</summary>
    internal sealed record EvaluationFailed(long Version, string Reason);

    private readonly EvaluationOptions options;
    private readonly NetworkSpec spec;
    private readonly Func<IEnvironment> makeEnvironment;

    public EvaluatorActor(EvaluationOptions options, NetworkSpec spec, Func<IEnvironment> makeEnvironment)
    {
        this.options = options;
        this.spec = spec;
        this.makeEnvironment = makeEnvironment;
        Receive<Evaluate>(OnEvaluate);
    }

    public static Props Props(EvaluationOptions options, NetworkSpec spec, Func<IEnvironment> makeEnvironment) =>
        Akka.Actor.Props.Create(() => new EvaluatorActor(options, spec, makeEnvironment)).WithDispatcher(AdvantageConfig.ComputeDispatcher);

    protected override void PreStart() => TorchThreads.UseOne();

    private void OnEvaluate(Evaluate request)
    {
        var snapshot = request.Snapshot;
        EvaluationResult result;
        try
        {
            result = Evaluation.Run(spec, snapshot.Parameters, makeEnvironment, options.Episodes, options.Seed,
                snapshot.ObservationStatistics, options.MaxEpisodeSteps);
        }
        catch (Exception e)
        {
            Sender.Tell(new EvaluationFailed(request.Version, $"{e.GetType().Name}: {e.Message}"));
            return;
        }
        Sender.Tell(new Evaluated(request.Version, request.Steps, result, snapshot));
    }
}
