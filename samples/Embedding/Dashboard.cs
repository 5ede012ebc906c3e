using Advantage.Actors;
using Akka.Actor;
using Akka.Event;
using Microsoft.Extensions.Hosting;

namespace Advantage.Samples.Embedding;

/// <summary>
/// One of the host's own actors: subscribes to training events with ordinary Akka code, asks the learner for
/// progress every second, and stops the application when the run ends.
/// </summary>
internal sealed class Dashboard : ReceiveActor, IWithTimers
{
    private sealed record Poll
    {
        public static readonly Poll Instance = new();
    }

    public Dashboard(IActorRef learner, IHostApplicationLifetime lifetime)
    {
        Receive<Poll>(_ => learner.Tell(GetProgress.Instance));
        Receive<TrainingProgress>(p => Console.WriteLine(
            $"[dashboard] {p.Steps,9:N0} steps  {p.StepsPerSecond,8:N0} steps/s  mean return {p.MeanReturn,6:F1}  workers {p.Workers}"));
        Receive<WorkerJoined>(w => Console.WriteLine($"[dashboard] worker {w.WorkerId} joined ({w.Workers} live)"));
        Receive<WorkerLost>(w => Console.WriteLine($"[dashboard] worker {w.WorkerId} lost ({w.Workers} live)"));
        Receive<EvaluationFinished>(e => Console.WriteLine(
            $"[dashboard] evaluation at {e.Steps:N0} steps: {e.Result.MeanReturn:F1} +/- {e.Result.StdReturn:F1}{(e.IsBest ? " (best so far)" : "")}"));
        Receive<CheckpointWritten>(c => Console.WriteLine($"[dashboard] {c.Kind} checkpoint at version {c.Version}: {c.Path}"));
        Receive<TrainingFinished>(f =>
        {
            Console.WriteLine($"[dashboard] training finished: {f.Reason}. {f.Detail} Mean return {f.Progress.MeanReturn:F1} after {f.Progress.Steps:N0} steps.");
            lifetime.StopApplication();
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    protected override void PreStart()
    {
        var events = Context.System.EventStream;
        foreach (var type in new[] { typeof(WorkerJoined), typeof(WorkerLost), typeof(EvaluationFinished), typeof(CheckpointWritten), typeof(TrainingFinished) })
            events.Subscribe(Self, type);
        Timers.StartPeriodicTimer("poll", Poll.Instance, TimeSpan.FromSeconds(1));
    }

    protected override void PostStop() => Context.System.EventStream.Unsubscribe(Self);
}
