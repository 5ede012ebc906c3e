using Advantage.Environments;
using Advantage.Learning;
using Akka.Actor;
using Akka.Event;

namespace Advantage.Actors.Tests;

/// <summary>
/// A user environment (4 observations, 5 actions, 100-day episodes, as the inventory simulation of issue 19) with one
/// fault, to drive whole runs into it.
/// </summary>
public sealed class InventoryEnvironment(InventoryEnvironment.Fault fault, int faultAtDay = 50) : IEnvironment
{
    public enum Fault
    {
        None,
        ObservationOneFloatLonger,
        NaNReward,
        ThrowsInStep,
        ThrowsInReset,
        ThrowsOnCreation,
    }

    private int day;
    private Random random = new(0);

    /// <summary>The factory; with <see cref="Fault.ThrowsOnCreation"/> only its first call (the run's probe for the network's sizes) succeeds.</summary>
    public static Func<IEnvironment> Factory(Fault fault, int faultAtDay = 50)
    {
        int calls = 0;
        return () => fault == Fault.ThrowsOnCreation && Interlocked.Increment(ref calls) > 1
            ? throw new FileNotFoundException("demand.csv is missing")
            : new TimeLimit(new InventoryEnvironment(fault, faultAtDay), 100);
    }

    public Space ObservationSpace { get; } = Box.Uniform([4], 0f, 1f);

    public Space ActionSpace { get; } = new Discrete(5);

    public void Reset(int? seed, Span<float> observation)
    {
        if (fault == Fault.ThrowsInReset) throw new InvalidDataException("the warehouse database is locked");
        if (seed is int s) random = new Random(s);
        day = 0;
        Write(observation);
    }

    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        day++;
        if (fault == Fault.ThrowsInStep && day == faultAtDay) throw new InvalidOperationException("the supplier model diverged");
        Write(observation);
        double reward = fault == Fault.NaNReward && day == faultAtDay ? double.NaN : 1.0 - Math.Abs(action[0] - 2) * 0.1;
        return StepResult.Continuing(reward);
    }

    private void Write(Span<float> observation)
    {
        int count = fault == Fault.ObservationOneFloatLonger ? 5 : 4;
        for (int i = 0; i < count; i++) observation[i] = (float)random.NextDouble();
    }
}

/// <summary>
/// Issue 19's reports: an environment fault must end a run, never hang it. Every run here must finish (as failed) well
/// within the deadline; before the fix the first two waited forever.
/// </summary>
public sealed class EnvironmentFaultTests : ActorTestKit
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private static TrainingOptions Run(InventoryEnvironment.Fault fault, bool asynchronous = false, int faultAtDay = 50)
    {
        AlgorithmOptions algorithm = asynchronous
            ? new ImpalaOptions { Workers = 2, EnvironmentsPerWorker = 4, RolloutLength = 5, HiddenSizes = [8], Seed = 3 }
            : new A2COptions { Workers = 2, EnvironmentsPerWorker = 4, RolloutLength = 5, HiddenSizes = [8], Seed = 3 };
        return new TrainingOptions()
            .WithAlgorithm(algorithm)
            .WithEnvironments(EnvironmentRegistry.Empty.Register("Inventory-v0", InventoryEnvironment.Factory(fault, faultAtDay)))
            .WithEnvironmentId("Inventory-v0")
            .WithMaxSteps(1_000_000);
    }

    private async Task<(TrainingFailedException Failure, TrainingFinished Finished)> Failed(TrainingOptions options)
    {
        var events = CreateTestProbe();
        Sys.EventStream.Subscribe(events.Ref, typeof(TrainingFinished));
        var run = Training.Start(Sys, options);
        var failure = await Assert.ThrowsAsync<TrainingFailedException>(() => run.Completion.WaitAsync(Deadline));
        Assert.Equal(StopReason.Failed, failure.Result.Reason);
        var finished = events.ExpectMsg<TrainingFinished>(Deadline);
        Assert.Equal(StopReason.Failed, finished.Reason);
        Assert.Equal(failure.Result.Detail, finished.Detail);
        return (failure, finished);
    }

    [Fact]
    public async Task An_observation_one_float_longer_than_declared_ends_the_run_as_failed_naming_the_fault()
    {
        var (failure, _) = await Failed(Run(InventoryEnvironment.Fault.ObservationOneFloatLonger).WithoutEnvironmentCheck());
        Assert.Contains("Reset threw IndexOutOfRangeException", failure.Result.Detail);
        Assert.Contains("environment 'Inventory-v0' slot 0", failure.Result.Detail);
        var cause = Assert.IsType<WorkerFaultException>(failure.InnerException);
        Assert.Contains("IndexOutOfRangeException", cause.Message);
        // In one process the environment's own exception is inside, with its stack trace.
        Assert.IsType<IndexOutOfRangeException>(cause.InnerException);
        Assert.True(failure.Result.Progress.WorkerRestarts > 0);
    }

    [Fact]
    public async Task A_NaN_reward_on_day_50_of_a_synchronous_run_ends_it_as_failed_naming_slot_and_step()
    {
        var logs = CreateTestProbe();
        Sys.EventStream.Subscribe(logs.Ref, typeof(Warning));
        Sys.EventStream.Subscribe(logs.Ref, typeof(Error));
        var (failure, _) = await Failed(Run(InventoryEnvironment.Fault.NaNReward).WithoutEnvironmentCheck());
        Assert.Matches("slot [0-3]: Step at step 50 of its episode returned the reward NaN", failure.Result.Detail);
        Assert.Equal(Run(InventoryEnvironment.Fault.NaNReward).MaxWorkerRestarts + 1, failure.Result.Progress.WorkerRestarts);

        // 101 failures, two lines: the first failure, and the end of the run.
        var lines = new List<LogEvent>();
        do lines.Add(logs.ExpectMsg<LogEvent>());
        while (!lines[^1].Message.ToString()!.Contains("The run ends", StringComparison.Ordinal));
        logs.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        Assert.True(lines.Count == 2, string.Join(Environment.NewLine, lines));
        Assert.Contains("A worker failed and restarts", lines[0].Message.ToString());
        Assert.Contains("The run ends: Worker restarts ran out (101 failures, MaxWorkerRestarts = 100)", lines[1].Message.ToString());
    }

    [Fact]
    public async Task With_the_check_on_both_broken_environments_of_the_report_are_refused_before_the_run_starts()
    {
        var longer = Assert.Throws<EnvironmentCheckException>(() => Training.Start(Sys, Run(InventoryEnvironment.Fault.ObservationOneFloatLonger)));
        Assert.Contains("Reset writes 5 observation floats, but the observation space declares 4", longer.Message);
        var nan = Assert.Throws<EnvironmentCheckException>(() => Training.Start(Sys, Run(InventoryEnvironment.Fault.NaNReward)));
        Assert.Contains("error: Step, step 50: the reward is NaN", nan.Message);
        await Task.CompletedTask;
    }

    [Theory]
    [InlineData(InventoryEnvironment.Fault.ThrowsOnCreation, "the factory threw FileNotFoundException: demand.csv is missing")]
    [InlineData(InventoryEnvironment.Fault.ThrowsInReset, "Reset threw InvalidDataException: the warehouse database is locked")]
    [InlineData(InventoryEnvironment.Fault.ThrowsInStep, "Step at step 50 of its episode threw InvalidOperationException: the supplier model diverged")]
    public async Task An_environment_that_always_throws_ends_the_run_as_failed_once_restarts_run_out(InventoryEnvironment.Fault fault, string expected)
    {
        var options = Run(fault).WithoutEnvironmentCheck().WithMaxWorkerRestarts(5);
        var (failure, _) = await Failed(options);
        Assert.Contains(expected, failure.Result.Detail);
        Assert.Contains("MaxWorkerRestarts = 5", failure.Result.Detail);
        Assert.Equal(6, failure.Result.Progress.WorkerRestarts);
    }

    [Fact]
    public void A_factory_that_cannot_make_the_environment_at_all_is_refused_at_start_naming_the_id()
    {
        var options = Run(InventoryEnvironment.Fault.None).WithoutEnvironmentCheck()
            .WithEnvironments(EnvironmentRegistry.Empty.Register("Inventory-v0", () => throw new FileNotFoundException("demand.csv is missing")));
        var refused = Assert.Throws<OptionsValidationException>(() => Training.Start(Sys, options));
        Assert.Contains("EnvironmentId = 'Inventory-v0': its factory threw FileNotFoundException: demand.csv is missing", refused.Message);
        var checkedFirst = Assert.Throws<EnvironmentCheckException>(() => Training.Start(Sys, options.WithEnvironmentCheck(EnvironmentCheckOptions.BeforeTraining)));
        Assert.Contains("the factory threw FileNotFoundException: demand.csv is missing", checkedFirst.Message);
    }

    [Fact]
    public async Task An_asynchronous_run_ends_as_failed_too()
    {
        var (failure, _) = await Failed(Run(InventoryEnvironment.Fault.NaNReward, asynchronous: true).WithoutEnvironmentCheck().WithMaxWorkerRestarts(3));
        Assert.Contains("returned the reward NaN", failure.Result.Detail);
    }

    [Fact]
    public async Task A_rare_fault_restarts_its_worker_and_the_run_goes_on()
    {
        // Only the first environment made ever fails; the run then trains to its budget.
        int made = 0;
        var healthy = InventoryEnvironment.Factory(InventoryEnvironment.Fault.None);
        var flaky = InventoryEnvironment.Factory(InventoryEnvironment.Fault.ThrowsInStep, faultAtDay: 7);
        var options = Run(InventoryEnvironment.Fault.None).WithoutEnvironmentCheck().WithMaxSteps(2_000)
            .WithEnvironments(EnvironmentRegistry.Empty.Register("Inventory-v0", () => Interlocked.Increment(ref made) == 3 ? flaky() : healthy()));
        var result = await Training.Start(Sys, options).Completion.WaitAsync(Deadline);
        Assert.Equal(StopReason.StepBudgetExhausted, result.Reason);
        Assert.Equal(1, result.Progress.WorkerRestarts);
    }

    [Fact]
    public void A_rejected_synchronous_rollout_sends_its_worker_a_refusal_and_the_round_completes_after_its_restart()
    {
        AdvantageConfig.Install(Sys);
        var completion = new TaskCompletionSource<TrainingResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Fixtures.Training.WithAlgorithm(Fixtures.Options.WithWorkers(2));
        var learner = Sys.ActorOf(LearnerActor.Props(options, new A2CLearner(Fixtures.Options, Fixtures.Spec), null, completion));
        var w0 = CreateTestProbe();
        var w1 = CreateTestProbe();
        w0.Send(learner, new RegisterWorker(0, 2));
        w1.Send(learner, new RegisterWorker(1, 2));
        w0.ExpectMsg<Parameters>();
        w1.ExpectMsg<Parameters>();

        w0.Send(learner, new RolloutCollected(Fixtures.Rollout(0, 0)));
        w1.Send(learner, new RolloutCollected(Fixtures.Rollout(1, 0, reward: float.NaN)));
        var refused = w1.ExpectMsg<RolloutRefused>();
        Assert.Equal(0, refused.Version);
        Assert.Contains("Rewards contain a non-finite number (NaN) at step 0 of environment slot 0", refused.Reason);

        // The worker restarts (as a WorkerActor does on a refusal), registers again, gets the round's parameters, and the round completes.
        w1.Send(learner, new WorkerRestarted(1, "WorkerFaultException: " + refused.Reason));
        w1.Send(learner, new RegisterWorker(1, 2));
        Assert.Equal(0, w1.ExpectMsg<Parameters>().Version);
        w1.Send(learner, new RolloutCollected(Fixtures.Rollout(1, 0)));
        Assert.Equal(1, w0.ExpectMsg<Parameters>().Version);
        Assert.Equal(1, w1.ExpectMsg<Parameters>().Version);
    }

    [Fact]
    public void A_worker_told_its_rollout_was_refused_restarts_and_says_why()
    {
        AdvantageConfig.Install(Sys);
        var learner = CreateTestProbe();
        var settings = new WorkerSettings(0, 1, Fixtures.Steps, 2, "Inventory-v0", InventoryEnvironment.Factory(InventoryEnvironment.Fault.None), Fixtures.Spec with { ActionSize = 5 });
        var worker = Sys.ActorOf(WorkerActor.Props(settings, learner.Ref));
        learner.ExpectMsg<RegisterWorker>();
        worker.Tell(new RolloutRefused(4, "Rewards contain NaN at step 2 of environment slot 1."));
        var restarted = learner.ExpectMsg<WorkerRestarted>();
        Assert.Contains("Worker 0: the learner refused its rollout of version 4: Rewards contain NaN at step 2 of environment slot 1.", restarted.Reason);
        learner.ExpectMsg<RegisterWorker>();
    }
}
