using System.Globalization;
using System.Text;
using Advantage.Learning;
using TorchSharp;

namespace Advantage.Actors;

/// <summary>
/// Writes a run's events as TensorBoard scalars with CleanRL's namespaced tags (<c>charts/episodic_return</c>,
/// <c>charts/episodic_length</c>, <c>charts/steps_per_second</c>, <c>charts/explained_variance</c>,
/// <c>losses/policy</c>, <c>losses/value</c>, <c>losses/entropy</c>, <c>losses/grad_norm</c>,
/// <c>eval/mean_return</c>, <c>eval/std_return</c>, and an algorithm's own scalars from <see cref="UpdateMetrics.Extra"/> as
/// <c>losses/&lt;name&gt;</c>, e.g. PPO's <c>losses/approx_kl</c> and <c>losses/clip_fraction</c>), each against environment steps, and the full
/// hyperparameter table as text at the start, through TorchSharp's <c>SummaryWriter</c>.
/// </summary>
/// <remarks>
/// TorchSharp's writer appends each record to the event file as it is written, so there is nothing to flush
/// or close and a crashed run keeps every point written before the crash. The learner calls it on its own thread. Update metrics are written at most every
/// <see cref="UpdateInterval"/>: a small network updates hundreds of times a second, and a point per update
/// would cost more than the curve gains.
/// </remarks>
internal sealed class TensorBoardLog
{
    /// <summary>Minimum wall time between two logged updates.</summary>
    public static readonly TimeSpan UpdateInterval = TimeSpan.FromMilliseconds(100);

    private readonly TorchSharp.Modules.SummaryWriter writer;
    private readonly System.Diagnostics.Stopwatch clock = System.Diagnostics.Stopwatch.StartNew();
    private TimeSpan? lastUpdate;

    /// <summary>Opens (creates) <paramref name="directory"/> and writes the hyperparameter table.</summary>
    public TensorBoardLog(string directory, IReadOnlyDictionary<string, string> hyperparameters)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(hyperparameters);
        Directory.CreateDirectory(directory);
        Folder = directory;
        writer = torch.utils.tensorboard.SummaryWriter(directory);
        var table = new StringBuilder("|param|value|\n|-|-|\n");
        foreach (var (key, value) in hyperparameters.OrderBy(p => p.Key, StringComparer.Ordinal)) table.Append('|').Append(key).Append('|').Append(value).Append("|\n");
        writer.add_text("hyperparameters", table.ToString(), 0);
    }

    /// <summary>The folder the event files are in.</summary>
    public string Folder { get; }

    /// <summary>The hyperparameter table of a run: every algorithm option plus the run's own settings.</summary>
    public static IReadOnlyDictionary<string, string> Hyperparameters(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var a = options.Algorithm;
        string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var table = new Dictionary<string, string>
        {
            ["algorithm"] = a.Algorithm,
            ["env_id"] = options.EnvironmentId,
            ["max_steps"] = options.MaxSteps.ToString(CultureInfo.InvariantCulture),
            ["target_mean_return"] = options.TargetMeanReturn is double t ? F(t) : "none",
            ["return_window"] = options.ReturnWindow.ToString(CultureInfo.InvariantCulture),
            ["checkpoint_interval"] = options.CheckpointInterval.ToString(CultureInfo.InvariantCulture),
            ["evaluation"] = options.Evaluation is { } e ? $"every {e.EveryUpdates} updates, {e.Episodes} episodes" : "none",
            ["resumed_from_version"] = options.ResumeFrom?.Progress?.Version.ToString(CultureInfo.InvariantCulture) ?? "none",
        };
        if (a.Asynchrony is { } rounds)
        {
            table["batch_rollouts"] = rounds.BatchRollouts.ToString(CultureInfo.InvariantCulture);
            table["max_lag"] = rounds.MaxLag.ToString(CultureInfo.InvariantCulture);
            table["rollouts_in_flight"] = rounds.InFlight.ToString(CultureInfo.InvariantCulture);
        }
        // Every option, shared and the algorithm's own, under the name its definition gives it.
        foreach (var option in AlgorithmOptions.CommonOptions.Concat(Algorithms.Of(a)?.Options ?? []))
            if (option.Hyperparameter is { } key) table[key] = option.Format(option.Get(a));
        return table;
    }

    /// <summary>Writes the scalars an event carries; events without scalars are ignored.</summary>
    public void Write(TrainingEvent trainingEvent)
    {
        switch (trainingEvent)
        {
            case EpisodeFinished e:
                Scalar("charts/episodic_return", e.Return, e.Steps);
                Scalar("charts/episodic_length", e.Length, e.Steps);
                break;
            case UpdateFinished u:
                var now = clock.Elapsed;
                if (lastUpdate is { } last && now - last < UpdateInterval) return;
                lastUpdate = now;
                Scalar("losses/policy", u.Metrics.PolicyLoss, u.Steps);
                Scalar("losses/value", u.Metrics.ValueLoss, u.Steps);
                Scalar("losses/entropy", u.Metrics.Entropy, u.Steps);
                Scalar("losses/grad_norm", u.Metrics.GradNorm, u.Steps);
                Scalar("charts/explained_variance", u.Metrics.ExplainedVariance, u.Steps);
                foreach (var (name, value) in u.Metrics.Extra) Scalar($"losses/{name}", value, u.Steps);
                Scalar("charts/steps_per_second", u.StepsPerSecond, u.Steps);
                break;
            case EvaluationFinished v:
                Scalar("eval/mean_return", v.Result.MeanReturn, v.Steps);
                Scalar("eval/std_return", v.Result.StdReturn, v.Steps);
                Scalar("eval/mean_length", v.Result.MeanLength, v.Steps);
                break;
        }
    }

    private void Scalar(string tag, double value, long step)
    {
        if (!double.IsFinite(value)) return;
        writer.add_scalar(tag, (float)value, (int)Math.Min(step, int.MaxValue));
    }
}
