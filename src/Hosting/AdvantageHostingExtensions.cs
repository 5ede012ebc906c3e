using Advantage.Actors;
using Akka.Actor;
using Akka.Event;
using Akka.Hosting;
using Microsoft.Extensions.DependencyInjection;

namespace Advantage.Hosting;

/// <summary>
/// Key type under which <see cref="AdvantageHostingExtensions.WithAdvantage(AkkaConfigurationBuilder, TrainingOptions)"/> registers the run's learner in
/// Akka.Hosting's <see cref="ActorRegistry"/>: resolve it with <c>registry.Get&lt;AdvantageLearner&gt;()</c> or
/// inject <c>IRequiredActor&lt;AdvantageLearner&gt;</c>, then <c>Ask</c> it <see cref="GetProgress"/> or tell it
/// <see cref="StopTraining"/>.
/// </summary>
public sealed class AdvantageLearner
{
    private AdvantageLearner() { }
}

/// <summary>Key type of the run's supervisor (parent of the workers; it stops with the learner) in the <see cref="ActorRegistry"/>.</summary>
public sealed class AdvantageRun
{
    private AdvantageRun() { }
}

/// <summary>
/// The hosted run, for the rest of the application through dependency injection: register it with
/// <see cref="AdvantageHostingExtensions.AddAdvantageTraining"/>, inject it anywhere (a controller, a
/// <c>BackgroundService</c>, a health check), and await <see cref="Completion"/>, ask <see cref="GetProgressAsync"/>,
/// read where its folder and checkpoint are, or <see cref="Stop"/> it. The run itself starts with the actor system
/// (<see cref="AdvantageHostingExtensions.WithAdvantage(AkkaConfigurationBuilder, TrainingOptions)"/>); until then the
/// tasks here wait for it.
/// </summary>
public sealed class AdvantageTraining
{
    private readonly TaskCompletionSource<TrainingRun> started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TrainingOptions? options;

    /// <summary>Creates the handle; the host's dependency injection does this (<see cref="AdvantageHostingExtensions.AddAdvantageTraining"/>).</summary>
    public AdvantageTraining() => Completion = WhenCompleted();

    /// <summary>Completes with the run once the actor system started it; faults when it could not start (invalid options, for instance).</summary>
    public Task<TrainingRun> Started => started.Task;

    /// <summary>
    /// Completes when the run ends (target, budget, a stop, shutdown) with its result: parameters, counters, the checkpoint to
    /// resume from (<see cref="TrainingResult.CheckpointPath"/>) and what could not be written. Faults like
    /// <see cref="TrainingRun.Completion"/> (a <see cref="TrainingFailedException"/> carrying the result) or like <see cref="Started"/>.
    /// </summary>
    public Task<TrainingResult> Completion { get; }

    /// <summary>The run's options; null until it started.</summary>
    public TrainingOptions? Options => options;

    /// <summary>The run folder (<see cref="TrainingOptions.OutputDirectory"/>); null when the run writes none or has not started.</summary>
    public string? OutputDirectory => options?.OutputDirectory;

    /// <summary>
    /// Where the run writes its resumable checkpoint (<c>last.ckpt</c> in <see cref="TrainingOptions.CheckpointDirectory"/>, else in
    /// the run folder), every checkpoint interval and at the end; null when it keeps none or has not started.
    /// </summary>
    public string? CheckpointPath => (options?.CheckpointDirectory ?? options?.OutputDirectory) is { } directory ? Path.Combine(directory, "last.ckpt") : null;

    /// <summary>A progress snapshot, once the run has started (waiting for the start counts against <paramref name="timeout"/> too).</summary>
    public async Task<TrainingProgress> GetProgressAsync(TimeSpan timeout)
    {
        var run = await Started.WaitAsync(timeout).ConfigureAwait(false);
        return await run.GetProgressAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>Asks the run to finish after its current round (the final checkpoint and the run folder are written); nothing when it has not started.</summary>
    public void Stop()
    {
        if (started.Task.IsCompletedSuccessfully) started.Task.Result.Stop();
    }

    internal void Attach(TrainingRun run, TrainingOptions runOptions)
    {
        options = runOptions;
        started.TrySetResult(run);
    }

    internal void Refuse(Exception cause) => started.TrySetException(cause);

    private async Task<TrainingResult> WhenCompleted()
    {
        var run = await started.Task.ConfigureAwait(false);
        return await run.Completion.ConfigureAwait(false);
    }
}

/// <summary>Settings of an embedded run beyond its <see cref="TrainingOptions"/>.</summary>
/// <param name="ShutdownTimeout">How long coordinated shutdown waits for the run to finish its round and write its final checkpoint.</param>
public sealed record AdvantageHostingSettings(TimeSpan ShutdownTimeout)
{
    /// <summary>Ten seconds: several thousand rounds of a small network, ample for the last one and a checkpoint.</summary>
    public static AdvantageHostingSettings Default { get; } = new(TimeSpan.FromSeconds(10));

    /// <summary>Returns a copy with <see cref="ShutdownTimeout"/> changed.</summary>
    public AdvantageHostingSettings WithShutdownTimeout(TimeSpan value) => this with { ShutdownTimeout = value };
}

/// <summary>
/// Embeds an Advantage training run in an application that already runs an actor system through
/// Akka.Hosting: training starts beside the host's own actors when the system starts, its actors are
/// registered in the <see cref="ActorRegistry"/>, its events go to the system's event stream, and
/// coordinated shutdown stops it cleanly (the current round finishes and the final checkpoint is written)
/// before the system terminates.
/// </summary>
public static class AdvantageHostingExtensions
{
    /// <summary>Starts a training run when the actor system starts, with default hosting settings.</summary>
    /// <param name="builder">The host's Akka configuration.</param>
    /// <param name="options">What to train; validated when the system starts (a bad option fails host start-up with every problem listed).</param>
    public static AkkaConfigurationBuilder WithAdvantage(this AkkaConfigurationBuilder builder, TrainingOptions options) =>
        builder.WithAdvantage(options, AdvantageHostingSettings.Default);

    /// <summary>Starts a training run when the actor system starts.</summary>
    /// <param name="builder">The host's Akka configuration.</param>
    /// <param name="options">What to train.</param>
    /// <param name="settings">Shutdown behaviour.</param>
    public static AkkaConfigurationBuilder WithAdvantage(this AkkaConfigurationBuilder builder, TrainingOptions options, AdvantageHostingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(settings);
        builder.AddHocon(AdvantageConfig.Default, HoconAddMode.Append);
        return builder.WithActors((system, registry, resolver) =>
        {
            // The application's handle, when it asked for one (AddAdvantageTraining), learns of the run here.
            var handle = resolver.GetService<AdvantageTraining>();
            TrainingRun run;
            try
            {
                run = Training.Start(system, options);
            }
            catch (Exception e)
            {
                handle?.Refuse(e);
                throw;
            }
            handle?.Attach(run, options);
            registry.Register<AdvantageLearner>(run.Learner);
            registry.Register<AdvantageRun>(run.Supervisor);
            CoordinatedShutdown.Get(system).AddTask(CoordinatedShutdown.PhaseServiceStop, "advantage-stop-training", async () =>
            {
                run.Stop();
                try
                {
                    await run.Completion.WaitAsync(settings.ShutdownTimeout).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    system.Log.Warning("Advantage: the run did not stop within {0}; the actor system terminates it.", settings.ShutdownTimeout);
                }
                catch (Exception e)
                {
                    system.Log.Warning("Advantage: the run ended with an error during shutdown: {0}", e.Message);
                }
                return Akka.Done.Instance;
            });
        });
    }

    /// <summary>
    /// Makes the hosted run injectable as <see cref="AdvantageTraining"/> (its completion, progress, folder and checkpoint),
    /// beside the actor references that <see cref="WithAdvantage(AkkaConfigurationBuilder, TrainingOptions)"/> registers in the
    /// <see cref="ActorRegistry"/>. Call it on the same services as <c>AddAkka</c>.
    /// </summary>
    public static IServiceCollection AddAdvantageTraining(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<AdvantageTraining>();
        return services;
    }
}
