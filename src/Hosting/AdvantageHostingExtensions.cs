using Advantage.Actors;
using Akka.Actor;
using Akka.Event;
using Akka.Hosting;

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
        return builder.WithActors((system, registry) =>
        {
            var run = Training.Start(system, options);
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
}
