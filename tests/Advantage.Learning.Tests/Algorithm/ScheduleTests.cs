using Advantage.Learning.Networks;

namespace Advantage.Learning.Tests.Algorithm;

public class ScheduleTests
{
    private static readonly NetworkSpec Spec = new(4, [8], 2, false);

    [Theory]
    [InlineData(0, 1e-3)]
    [InlineData(250, 7.5e-4)]
    [InlineData(500, 5e-4)]
    [InlineData(1000, 0)]
    [InlineData(1500, 0)]
    public void Linear_falls_from_the_initial_value_to_zero_at_the_budget_and_stays_there(long steps, double expected)
    {
        Assert.Equal(expected, Schedules.At(ScheduleKind.Linear, 1e-3, steps, 1000), 15);
        Assert.Equal(1e-3, Schedules.At(ScheduleKind.Constant, 1e-3, steps, 1000));
    }

    [Fact]
    public void Bad_progress_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Schedules.At(ScheduleKind.Linear, 1, -1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => Schedules.At(ScheduleKind.Linear, 1, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Schedules.At((ScheduleKind)7, 1, 0, 10));
        using var learner = Learners.Create(new PpoOptions { HiddenSizes = [8] }, Spec);
        Assert.Throws<ArgumentOutOfRangeException>(() => learner.SetTrainingProgress(5, 0));
    }

    [Fact]
    public void Unknown_schedules_are_options_problems_naming_the_field()
    {
        var problems = new PpoOptions { LearningRateSchedule = (ScheduleKind)9, ClipRangeSchedule = (ScheduleKind)9 }.Problems();
        Assert.Contains(problems, p => p.StartsWith("LearningRateSchedule", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("ClipRangeSchedule", StringComparison.Ordinal));
        Assert.Contains(new A2COptions { LearningRateSchedule = (ScheduleKind)9 }.Problems(), p => p.StartsWith("LearningRateSchedule", StringComparison.Ordinal));
        Assert.Empty(new PpoOptions().WithLearningRateSchedule(ScheduleKind.Linear).WithClipRangeSchedule(ScheduleKind.Linear).Problems());
    }

    private static Rollout Round(long version)
    {
        const int steps = 4, envs = 2;
        var observations = Enumerable.Range(0, (steps + 1) * envs * 4).Select(i => (float)Math.Sin(i + version)).ToArray();
        var actions = Enumerable.Range(0, steps * envs).Select(i => (float)(i % 2)).ToArray();
        var rewards = Enumerable.Range(0, steps * envs).Select(i => (float)(i % 3)).ToArray();
        return new Rollout(0, version, steps, envs, 4, 1, observations, actions, rewards, new bool[steps * envs], new bool[steps * envs], [], [], [], []);
    }

    [Fact]
    public void A_linear_schedule_without_a_step_budget_is_refused_naming_the_field()
    {
        using var ppo = Learners.Create(new PpoOptions { HiddenSizes = [8], Minibatches = 1, ClipRangeSchedule = ScheduleKind.Linear }, Spec);
        var error = Assert.Throws<InvalidOperationException>(() => ppo.Update([Round(0)]));
        Assert.Contains("ClipRangeSchedule", error.Message);
        using var a2c = Learners.Create(new A2COptions { HiddenSizes = [8], LearningRateSchedule = ScheduleKind.Linear }, Spec);
        error = Assert.Throws<InvalidOperationException>(() => a2c.Update([Round(0)]));
        Assert.Contains("LearningRateSchedule", error.Message);
        // Constant schedules need no budget.
        using var constant = Learners.Create(new PpoOptions { HiddenSizes = [8], Minibatches = 1 }, Spec);
        Assert.Equal(2.5e-4, constant.Update([Round(0)]).Extra["learning_rate"]);
    }

    [Fact]
    public void The_learners_use_and_report_the_scheduled_values()
    {
        var options = new PpoOptions { HiddenSizes = [8], Minibatches = 1, LearningRate = 1e-3, ClipRange = 0.2, LearningRateSchedule = ScheduleKind.Linear, ClipRangeSchedule = ScheduleKind.Linear };
        using var ppo = Learners.Create(options, Spec);
        ppo.SetTrainingProgress(8, 32);
        var metrics = ppo.Update([Round(0)]);
        Assert.Equal(7.5e-4, metrics.Extra["learning_rate"], 15);
        Assert.Equal(0.15, metrics.Extra["clip_range"], 15);
        Assert.Equal(7.5e-4, ((PpoLearner)ppo).Optimizer.ParamGroups.Single().LearningRate, 15);

        // At the budget the rate is zero: the parameters no longer move.
        ppo.SetTrainingProgress(32, 32);
        var before = ppo.Parameters.Read();
        metrics = ppo.Update([Round(1)]);
        Assert.Equal(0.0, metrics.Extra["learning_rate"]);
        Assert.Equal(before, ppo.Parameters.Read());

        using var a2c = Learners.Create(new A2COptions { HiddenSizes = [8], LearningRate = 4e-3 }.WithLearningRateSchedule(ScheduleKind.Linear), Spec);
        a2c.SetTrainingProgress(30, 40);
        Assert.Equal(1e-3, a2c.Update([Round(0)]).Extra["learning_rate"], 15);
    }
}
