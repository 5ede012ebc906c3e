using Advantage.Actors;
using Advantage.Hosting;
using Advantage.Learning;
using Advantage.Samples.Embedding;
using Akka.Actor;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

// A generic-host service that already runs an actor system (here one "dashboard" actor) and embeds an
// Advantage training run beside it. The dashboard follows the run on the event stream and asks the learner
// for progress; when training finishes it stops the host, and shutdown stops the run cleanly. The run writes
// its folder (progress.csv, summary.json, learning_curve.png, checkpoints); the rest of the application reaches
// the run and its result through dependency injection (AdvantageTraining).
string output = args.Length > 0 ? args[0] : Path.Combine("runs", "embedded");
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddAkka("embedding", akka =>
{
    akka.AddHocon("akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING", HoconAddMode.Prepend);
    akka.WithAdvantage(new TrainingOptions()
        .WithAlgorithm(new A2COptions().WithSeed(3).WithLearningRate(4e-3))
        .WithTargetMeanReturn(475)
        .WithMaxSteps(500_000)
        .WithOutputDirectory(output)
        .WithCheckpointInterval(500)
        .WithEvaluation(new EvaluationOptions().WithEveryUpdates(500).WithEpisodes(5))
        .WithStopCondition(StopCondition.NoImprovement(evaluations: 10)));
    akka.WithActors((system, registry, resolver) =>
    {
        var lifetime = resolver.GetService<IHostApplicationLifetime>();
        system.ActorOf(Props.Create(() => new Dashboard(registry.Get<AdvantageLearner>(), lifetime)), "dashboard");
    });
});
builder.Services.AddAdvantageTraining();
using var host = builder.Build();
var training = host.Services.GetRequiredService<AdvantageTraining>();
await host.RunAsync();
var result = await training.Completion;
Console.WriteLine($"Run folder {training.OutputDirectory}: {result.Reason} at {result.Progress.Steps:N0} steps; resume from {result.CheckpointPath} (version {result.CheckpointVersion}).");
