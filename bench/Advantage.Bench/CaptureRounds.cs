using System.Globalization;
using System.Text.Json;
using Advantage.Actors;
using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;

namespace Advantage.Bench;

/// <summary>
/// Runs one seed as <c>train</c> would and records, for every update whose batch ends inside a step window, the learner's
/// state just before it (parameters, optimizer state, observation statistics, options, schedule position: a training
/// checkpoint) and the round's rollouts (JSON), plus one CSV line of metrics per update over the whole run. A collapsing
/// round found in the CSV can then be replayed outside the actors (<c>replay-round</c>, and the regression test's fixture).
/// </summary>
public static class CaptureRounds
{
    public static int Run(TrainingOptions options, long from, long to, string folder, bool autograd)
    {
        Directory.CreateDirectory(folder);
        var system = Report.NewSystem("bench-capture");
        try
        {
            Recorder? recorder = null;
            var run = Training.StartRun(system, options, null, RunDisk.Real, workers: true,
                learner =>
                {
                    if (autograd && learner is PpoLearner ppo) ppo.HandWritten = false;
                    return recorder = new Recorder(learner, options.MaxSteps, from, to, folder);
                });
            while (!run.Completion.Wait(200))
                if (recorder!.PastWindow) run.Stop();
            var result = run.Completion.Result;
            recorder!.Dispose();
            Console.WriteLine($"seed {options.Algorithm.Seed}: {result.Reason} at {result.Progress.Steps:N0} steps, mean-100 {result.Progress.MeanReturn:F1}; " +
                $"{recorder.Saved} rounds saved in {folder} ({from:N0}-{to:N0} steps), metrics in {Path.Combine(folder, "updates.csv")}");
            return 0;
        }
        finally
        {
            Report.Shutdown(system);
        }
    }

    /// <summary>The learner as the actors see it, saving each round inside the window before passing it on.</summary>
    private sealed class Recorder(IPolicyLearner inner, long budget, long from, long to, string folder) : IPolicyLearner
    {
        private readonly StreamWriter csv = new(Path.Combine(folder, "updates.csv")) { AutoFlush = true };
        private readonly Queue<double> window = new();
        private long steps;
        private long version;
        private long episodes;
        private bool header;

        public int Saved { get; private set; }

        public bool PastWindow => steps > to;

        public AlgorithmOptions Options => inner.Options;

        public NetworkSpec Spec => inner.Spec;

        public ParameterVector Parameters => inner.Parameters;

        public NormalizerState? ObservationStatistics => inner.ObservationStatistics;

        public void RestoreObservationStatistics(NormalizerState state) => inner.RestoreObservationStatistics(state);

        public void SetTrainingProgress(long steps, long stepBudget)
        {
            this.steps = steps;
            inner.SetTrainingProgress(steps, stepBudget);
        }

        public byte[] SaveOptimizerState() => inner.SaveOptimizerState();

        public void LoadOptimizerState(byte[] state) => inner.LoadOptimizerState(state);

        public UpdateMetrics Update(IReadOnlyList<Rollout> batch)
        {
            version = batch[0].Version;
            string name = $"round-{version:D5}";
            if (steps >= from && steps <= to)
            {
                var metadata = new Dictionary<string, string>
                {
                    ["steps"] = steps.ToString(CultureInfo.InvariantCulture),
                    ["step_budget"] = budget.ToString(CultureInfo.InvariantCulture),
                    ["captured_by"] = "advantage-bench capture-rounds",
                };
                new Checkpoint(Spec, Parameters.Read(), metadata)
                    .WithOptimizerState(SaveOptimizerState())
                    .WithObservationStatistics(ObservationStatistics)
                    .WithOptions(Options)
                    .WithProgress(new CheckpointProgress(version, steps, episodes, window.ToArray()))
                    .Save(Path.Combine(folder, name + ".ckpt"));
                File.WriteAllText(Path.Combine(folder, name + ".rollouts.json"), JsonSerializer.Serialize(batch));
                Saved++;
            }
            var m = inner.Update(batch);
            foreach (var r in batch)
            {
                foreach (double g in r.EpisodeReturns)
                {
                    window.Enqueue(g);
                    if (window.Count > 100) window.Dequeue();
                    episodes++;
                }
            }
            if (!header)
            {
                csv.WriteLine("version,steps,mean_return100,entropy_before,policy_loss,value_loss,grad_norm,explained_variance,approx_kl,clip_fraction,learning_rate");
                header = true;
            }
            double Extra(string key) => m.Extra.TryGetValue(key, out double v) ? v : double.NaN;
            csv.WriteLine(string.Join(",", new[] { version, steps }.Select(x => x.ToString(CultureInfo.InvariantCulture))
                .Concat(new[] { window.Count > 0 ? window.Average() : double.NaN, m.Entropy, m.PolicyLoss, m.ValueLoss, m.GradNorm, m.ExplainedVariance, Extra("approx_kl"), Extra("clip_fraction"), Extra("learning_rate") }
                    .Select(x => x.ToString("G6", CultureInfo.InvariantCulture)))));
            return m;
        }

        private bool disposed;

        public void Dispose()
        {
            if (disposed) return;
            disposed = true;
            csv.Dispose();
            inner.Dispose();
        }
    }
}
