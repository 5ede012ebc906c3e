using Advantage.Environments;
using Advantage.Learning;

namespace Advantage.Actors;

/// <summary>
/// What to train and when to stop, around the algorithm's options (<see cref="A2COptions"/> or <see cref="PpoOptions"/>:
/// the concrete type of <see cref="Algorithm"/> chooses the algorithm). Immutable; F# callers change it with the <c>WithX</c> methods.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>
    /// The algorithm and its hyperparameters: <see cref="A2COptions"/> trains A2C, <see cref="PpoOptions"/> trains PPO
    /// (<see cref="Learners.Create"/> maps one to the other). Everything the actors read (workers, environments, rollout
    /// length, seed) is on the shared <see cref="AlgorithmOptions"/>. Default: <see cref="A2COptions"/> defaults.
    /// </summary>
    public AlgorithmOptions Algorithm { get; init; } = new A2COptions();

    /// <summary>Environment id, looked up in <see cref="Environments"/>. Default "CartPole-v1".</summary>
    public string EnvironmentId { get; init; } = "CartPole-v1";

    /// <summary>Where environment ids resolve; register your own environments here. Default: the built-in set.</summary>
    public EnvironmentRegistry Environments { get; init; } = EnvironmentRegistry.Builtin;

    /// <summary>Stop after this many environment steps, in [1, 10^12]. Default 1,000,000.</summary>
    public long MaxSteps { get; init; } = 1_000_000;

    /// <summary>Stop when the mean return of the last <see cref="ReturnWindow"/> episodes reaches this; null never. Default null.</summary>
    public double? TargetMeanReturn { get; init; }

    /// <summary>Episodes the mean return is taken over, in [1, 100000]. Default 100.</summary>
    public int ReturnWindow { get; init; } = 100;

    /// <summary>How often progress is reported. Default 0.5 s; must be positive.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Extra reasons to stop, checked after every update and evaluation. Default none.</summary>
    public IReadOnlyList<IStopCondition> StopConditions { get; init; } = [];

    /// <summary>Periodic deterministic evaluation; null for none. Default null.</summary>
    public EvaluationOptions? Evaluation { get; init; }

    /// <summary>
    /// Folder for <c>last.ckpt</c> (every <see cref="CheckpointInterval"/> updates and at the end) and
    /// <c>best.ckpt</c> (best evaluation); null writes none, unless <see cref="OutputDirectory"/> is set: then they go there. Default null.
    /// </summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>
    /// Write <c>last.ckpt</c> every this many updates, in [0, 10^9]; 0 only at the end. Default 0. Workers
    /// restart their environments and action sampling at these round boundaries (see <see cref="WorkerActor"/>),
    /// which is what lets a resumed run continue exactly as the uninterrupted one.
    /// </summary>
    public int CheckpointInterval { get; init; }

    /// <summary>
    /// Continue from this checkpoint (weights, optimizer state, counters, return window, observation
    /// statistics); null starts fresh. Its network and optimizer kind must match this run's; the run continues
    /// exactly as if it had never stopped when every option is the same (and rewards are not normalised: the
    /// reward scaler's statistics live in the workers and restart). <see cref="MaxSteps"/> counts from the
    /// start of the original run. Default null.
    /// </summary>
    public Checkpoint? ResumeFrom { get; init; }

    /// <summary>Folder for TensorBoard event files; null writes none (unless <see cref="OutputDirectory"/> is set). Default null.</summary>
    public string? TensorBoardDirectory { get; init; }

    /// <summary>
    /// The run folder: the library writes the whole of it, in every placement (in one process, hosted, a cluster learner).
    /// <c>progress.csv</c> (a row every <see cref="LogInterval"/> updates), <c>episodes.csv</c> (every episode's return and
    /// length), <c>summary.json</c>, <c>learning_curve.png</c>, <c>model.ckpt</c> (weights and observation statistics, for
    /// playing), and, unless set otherwise, <c>last.ckpt</c>/<c>best.ckpt</c> (<see cref="CheckpointDirectory"/> defaults to it)
    /// and <c>tensorboard/</c> (<see cref="TensorBoardDirectory"/>). All of it is written before <see cref="TrainingRun.Completion"/>
    /// completes. A run that resumes (<see cref="ResumeFrom"/>) into a folder holding its earlier part appends to its logs and
    /// keeps its totals (wall time, counters); a fresh run writes over them. Files that cannot be written (a full disk) are
    /// named in <see cref="TrainingResult.OutputProblems"/>. Null writes no folder. Default null.
    /// </summary>
    public string? OutputDirectory { get; init; }

    /// <summary>A <c>progress.csv</c> row every this many updates, in [1, 10^9]. Default 5.</summary>
    public int LogInterval { get; init; } = 5;

    /// <summary>
    /// How many times in all the run restarts a worker whose environment failed (threw on creation, in Reset or in Step,
    /// produced a non-finite reward or observation, or sent a rollout the learner refused), in [0, 1000000]; one failure
    /// more ends the run with <see cref="StopReason.Failed"/> and the environment's failure as the cause. A budget for the
    /// whole run, not a rate, so a broken environment ends the run within seconds whatever its timing, while a rare fault
    /// (a simulator that crashes once an hour) costs one rollout each time. Default 100.
    /// </summary>
    public int MaxWorkerRestarts { get; init; } = 100;

    /// <summary>
    /// The check every run does before it starts (<see cref="EnvironmentChecker"/>): an environment with errors is refused
    /// with <see cref="EnvironmentCheckException"/> before any actor starts. Null skips it (an environment too slow to step a
    /// few hundred times up front). Default <see cref="EnvironmentCheckOptions.BeforeTraining"/>.
    /// </summary>
    public EnvironmentCheckOptions? EnvironmentCheck { get; init; } = EnvironmentCheckOptions.BeforeTraining;

    /// <summary>Returns a copy with <see cref="MaxWorkerRestarts"/> changed.</summary>
    public TrainingOptions WithMaxWorkerRestarts(int value) => this with { MaxWorkerRestarts = value };

    /// <summary>Returns a copy with <see cref="EnvironmentCheck"/> changed.</summary>
    public TrainingOptions WithEnvironmentCheck(EnvironmentCheckOptions value) => this with { EnvironmentCheck = value };

    /// <summary>Returns a copy that starts without checking the environment (F# has no <c>with</c> to set null).</summary>
    public TrainingOptions WithoutEnvironmentCheck() => this with { EnvironmentCheck = null };

    /// <summary>Returns a copy with <paramref name="value"/> added to <see cref="StopConditions"/>.</summary>
    public TrainingOptions WithStopCondition(IStopCondition value) => this with { StopConditions = [.. StopConditions, value] };

    /// <summary>Returns a copy with <see cref="Evaluation"/> changed.</summary>
    public TrainingOptions WithEvaluation(EvaluationOptions? value) => this with { Evaluation = value };

    /// <summary>Returns a copy with <see cref="CheckpointDirectory"/> changed.</summary>
    public TrainingOptions WithCheckpointDirectory(string? value) => this with { CheckpointDirectory = value };

    /// <summary>Returns a copy with <see cref="CheckpointInterval"/> changed.</summary>
    public TrainingOptions WithCheckpointInterval(int value) => this with { CheckpointInterval = value };

    /// <summary>Returns a copy that resumes from <paramref name="value"/>.</summary>
    public TrainingOptions WithResumeFrom(Checkpoint? value) => this with { ResumeFrom = value };

    /// <summary>Returns a copy with <see cref="TensorBoardDirectory"/> changed.</summary>
    public TrainingOptions WithTensorBoardDirectory(string? value) => this with { TensorBoardDirectory = value };

    /// <summary>Returns a copy with <see cref="OutputDirectory"/> changed.</summary>
    public TrainingOptions WithOutputDirectory(string? value) => this with { OutputDirectory = value };

    /// <summary>Returns a copy with <see cref="LogInterval"/> changed.</summary>
    public TrainingOptions WithLogInterval(int value) => this with { LogInterval = value };

    /// <summary>Returns a copy with <see cref="Algorithm"/> changed.</summary>
    public TrainingOptions WithAlgorithm(AlgorithmOptions value) => this with { Algorithm = value };

    /// <summary>Returns a copy with <see cref="EnvironmentId"/> changed.</summary>
    public TrainingOptions WithEnvironmentId(string value) => this with { EnvironmentId = value };

    /// <summary>Returns a copy with <see cref="Environments"/> changed.</summary>
    public TrainingOptions WithEnvironments(EnvironmentRegistry value) => this with { Environments = value };

    /// <summary>Returns a copy with <see cref="MaxSteps"/> changed.</summary>
    public TrainingOptions WithMaxSteps(long value) => this with { MaxSteps = value };

    /// <summary>Returns a copy that stops when the mean return reaches <paramref name="value"/>.</summary>
    public TrainingOptions WithTargetMeanReturn(double value) => this with { TargetMeanReturn = value };

    /// <summary>Returns a copy with no target: it runs until <see cref="MaxSteps"/> or a stop (F# has no <c>with</c> to set null).</summary>
    public TrainingOptions WithoutTargetMeanReturn() => this with { TargetMeanReturn = null };

    /// <summary>Returns a copy with <see cref="ReturnWindow"/> changed.</summary>
    public TrainingOptions WithReturnWindow(int value) => this with { ReturnWindow = value };

    /// <summary>Returns a copy with <see cref="ProgressInterval"/> changed.</summary>
    public TrainingOptions WithProgressInterval(TimeSpan value) => this with { ProgressInterval = value };

    /// <summary>Every problem with these options and the algorithm's, one per bad field. Empty when valid.</summary>
    public IReadOnlyList<string> Problems() => FieldProblems().Select(p => p.Message).ToList();

    /// <summary>
    /// <see cref="Problems"/> with the field each is about (<see cref="Algorithm"/>'s carry their option's definition too),
    /// so the command line names its flag without parsing the message.
    /// </summary>
    public IReadOnlyList<OptionProblem> FieldProblems()
    {
        var problems = new ProblemList();
        if (Algorithm is null) problems.Add(nameof(Algorithm), $"{nameof(Algorithm)} must be set.");
        else if (Algorithms.Of(Algorithm) is null) problems.Add(nameof(Algorithm), $"{nameof(Algorithm)}: {Algorithm.GetType().Name}'s {Algorithms.NotRegistered(Algorithm.Algorithm)}");
        else problems.AddRange(Algorithm.FieldProblems().Select(p => p with { Field = nameof(Algorithm), Message = $"{nameof(Algorithm)}.{p.Message}" }));
        if (Environments is null) problems.Add(nameof(Environments), $"{nameof(Environments)} must be set.");
        else if (string.IsNullOrWhiteSpace(EnvironmentId) || !Environments.Contains(EnvironmentId))
            problems.Add(nameof(EnvironmentId), $"{nameof(EnvironmentId)} = '{EnvironmentId}' is not registered; known ids: {string.Join(", ", Environments.Ids)}.");
        problems.AddIf(nameof(MaxSteps), new OptionRange(1, 1_000_000_000_000).Problem(nameof(MaxSteps), MaxSteps));
        if (TargetMeanReturn is double target && !double.IsFinite(target)) problems.Add(nameof(TargetMeanReturn), $"{nameof(TargetMeanReturn)} = {target} must be a finite number.");
        problems.AddIf(nameof(ReturnWindow), new OptionRange(1, 100_000).Problem(nameof(ReturnWindow), ReturnWindow));
        if (ProgressInterval <= TimeSpan.Zero) problems.Add(nameof(ProgressInterval), $"{nameof(ProgressInterval)} = {ProgressInterval} must be positive.");
        if (StopConditions is null || StopConditions.Any(c => c is null)) problems.Add(nameof(StopConditions), $"{nameof(StopConditions)} must be a list without nulls.");
        if (Evaluation is not null) problems.AddRange(Evaluation.Problems().Select(p => new OptionProblem(nameof(Evaluation), $"{nameof(Evaluation)}.{p}")));
        problems.AddIf(nameof(MaxWorkerRestarts), new OptionRange(0, 1_000_000).Problem(nameof(MaxWorkerRestarts), MaxWorkerRestarts));
        if (EnvironmentCheck is not null) problems.AddRange(EnvironmentCheck.Problems().Select(p => new OptionProblem(nameof(EnvironmentCheck), $"{nameof(EnvironmentCheck)}.{p}")));
        problems.AddIf(nameof(CheckpointInterval), new OptionRange(0, 1_000_000_000).Problem(nameof(CheckpointInterval), CheckpointInterval));
        problems.AddIf(nameof(LogInterval), new OptionRange(1, 1_000_000_000).Problem(nameof(LogInterval), LogInterval));
        if (OutputDirectory is { } output && (string.IsNullOrWhiteSpace(output) || output.IndexOfAny(Path.GetInvalidPathChars()) >= 0))
            problems.Add(nameof(OutputDirectory), $"{nameof(OutputDirectory)} = '{output}' is not a folder path.");
        if (ResumeFrom is { } resume)
        {
            if (Algorithm is not null && LearnerState.AlgorithmMismatch(resume, Algorithm) is { } mismatch)
                problems.Add(nameof(ResumeFrom), $"{nameof(ResumeFrom)}: {mismatch}");
            else if (!resume.CanResume)
                problems.Add(nameof(ResumeFrom), $"{nameof(ResumeFrom)} is a bare model (no optimizer state, counters or options); only a training checkpoint can be resumed.");
            else if (Algorithm is not null && (resume.Options!.Optimizer != Algorithm.Optimizer || !resume.Options.HiddenSizes.SequenceEqual(Algorithm.HiddenSizes ?? [])))
                problems.Add(nameof(ResumeFrom), $"{nameof(ResumeFrom)} was trained with optimizer {resume.Options.Optimizer} and hidden sizes [{string.Join(", ", resume.Options.HiddenSizes)}]; a resumed run must keep both (other options may change, but only identical options continue exactly).");
            if (resume.EnvironmentId is { } id && id != EnvironmentId)
                problems.Add(nameof(ResumeFrom), $"{nameof(ResumeFrom)} was trained on '{id}', not '{EnvironmentId}'.");
        }
        return problems;
    }

    /// <summary>The problems of <see cref="FieldProblems"/>, added with their field.</summary>
    private sealed class ProblemList : List<OptionProblem>
    {
        public void Add(string field, string message) => Add(new OptionProblem(field, message));

        public void AddIf(string field, string? message)
        {
            if (message is not null) Add(field, message);
        }
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem, if there is any.</summary>
    public TrainingOptions Validate()
    {
        OptionsValidationException.ThrowIfAny(nameof(TrainingOptions), Problems());
        return this;
    }

    /// <summary>
    /// Set by <see cref="Simulation.SimulationTraining.ForCluster"/> only: how long the learner's synchronous rounds wait for
    /// simulations (see <see cref="Simulation.SimulationRoundLimits"/>). Null for every other run, whose rounds wait for every
    /// live worker as they always did (workers that fail are restarted or lost, never silent), so a seeded run of the built-in
    /// workers stays bit-identical in every placement.
    /// </summary>
    internal Simulation.SimulationRoundLimits? SimulationRounds { get; init; }

    /// <summary>
    /// These options with the run folder's defaults filled in: <see cref="CheckpointDirectory"/> the folder itself and
    /// <see cref="TensorBoardDirectory"/> its <c>tensorboard</c> subfolder, where not set.
    /// </summary>
    internal TrainingOptions WithRunFolderDefaults() => OutputDirectory is not { } output ? this : this with
    {
        CheckpointDirectory = CheckpointDirectory ?? output,
        TensorBoardDirectory = TensorBoardDirectory ?? Path.Combine(output, "tensorboard"),
    };
}
