using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using Akka.Actor;

namespace Advantage.Actors;

/// <summary>
/// Evaluates snapshots of the learner's parameters on environments of its own with deterministic actions,
/// in parallel with training (rounds never wait for it), and keeps the best-scoring snapshot as
/// <c>best.ckpt</c>. The learner hands it a complete checkpoint with each request, so the best checkpoint
/// can resume training, not only be evaluated. Replies to the learner, which publishes the events.
/// </summary>
internal sealed class EvaluatorActor : ReceiveActor
{
    /// <summary>Evaluate this snapshot.</summary>
    internal sealed record Evaluate(long Version, long Steps, Checkpoint Snapshot);

    /// <summary>The outcome; <paramref name="BestPath"/> is set when a new best checkpoint was written.</summary>
    internal sealed record Evaluated(long Version, long Steps, EvaluationResult Result, bool IsBest, string? BestPath);

    private readonly EvaluationOptions options;
    private readonly NetworkSpec spec;
    private readonly Func<IEnvironment> makeEnvironment;
    private readonly string? checkpointDirectory;
    private double best = double.NegativeInfinity;

    public EvaluatorActor(EvaluationOptions options, NetworkSpec spec, Func<IEnvironment> makeEnvironment, string? checkpointDirectory)
    {
        this.options = options;
        this.spec = spec;
        this.makeEnvironment = makeEnvironment;
        this.checkpointDirectory = checkpointDirectory;
        Receive<Evaluate>(OnEvaluate);
    }

    public static Props Props(EvaluationOptions options, NetworkSpec spec, Func<IEnvironment> makeEnvironment, string? checkpointDirectory) =>
        Akka.Actor.Props.Create(() => new EvaluatorActor(options, spec, makeEnvironment, checkpointDirectory)).WithDispatcher(AdvantageConfig.ComputeDispatcher);

    protected override void PreStart() => TorchThreads.UseOne();

    private void OnEvaluate(Evaluate request)
    {
        var snapshot = request.Snapshot;
        var result = Evaluation.Run(spec, snapshot.Parameters, makeEnvironment, options.Episodes, options.Seed,
            snapshot.ObservationStatistics, options.MaxEpisodeSteps);
        bool isBest = result.MeanReturn > best;
        string? path = null;
        if (isBest)
        {
            best = result.MeanReturn;
            if (checkpointDirectory is not null)
            {
                path = Path.Combine(checkpointDirectory, "best.ckpt");
                var metadata = new Dictionary<string, string>(snapshot.Metadata)
                {
                    ["evaluation_mean_return"] = result.MeanReturn.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
                    ["evaluation_episodes"] = result.Returns.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
                };
                (snapshot with { Metadata = metadata }).Save(path);
            }
        }
        Sender.Tell(new Evaluated(request.Version, request.Steps, result, isBest, path));
    }
}
