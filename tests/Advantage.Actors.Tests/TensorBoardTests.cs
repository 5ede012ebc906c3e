using Advantage.Learning;
using Akka.TestKit.Xunit2;

namespace Advantage.Actors.Tests;

public class TensorBoardTests : ActorTestKit
{
    /// <summary>
    /// Reads a TensorBoard event file the way TensorBoard does: TFRecord frames (u64 length, u32 masked
    /// CRC-32C of the length, data, u32 masked CRC-32C of the data), each an <c>Event</c> protobuf.
    /// </summary>
    internal static List<Tensorboard.Event> ReadEvents(string path)
    {
        var events = new List<Tensorboard.Event>();
        byte[] bytes = File.ReadAllBytes(path);
        int at = 0;
        while (at < bytes.Length)
        {
            ulong length = BitConverter.ToUInt64(bytes, at);
            Assert.Equal(Masked(Crc32C(bytes.AsSpan(at, 8))), BitConverter.ToUInt32(bytes, at + 8));
            var data = bytes.AsSpan(at + 12, (int)length);
            Assert.Equal(Masked(Crc32C(data)), BitConverter.ToUInt32(bytes, at + 12 + (int)length));
            events.Add(Tensorboard.Event.Parser.ParseFrom(data.ToArray()));
            at += 12 + (int)length + 4;
        }
        return events;
    }

    private static uint Masked(uint crc) => unchecked(((crc >> 15) | (crc << 17)) + 0xa282ead8u);

    private static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0x82F63B78u ^ (crc >> 1) : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public void The_hyperparameter_table_names_the_schedules()
    {
        var ppo = new TrainingOptions().WithAlgorithm(new PpoOptions().WithLearningRateSchedule(ScheduleKind.Linear).WithClipRangeSchedule(ScheduleKind.Linear));
        var table = TensorBoardLog.Hyperparameters(ppo);
        Assert.Equal("Linear", table["learning_rate_schedule"]);
        Assert.Equal("Linear", table["clip_range_schedule"]);
        Assert.Equal("Constant", TensorBoardLog.Hyperparameters(new TrainingOptions())["learning_rate_schedule"]);
    }

    [Fact]
    public async Task A_run_writes_namespaced_scalars_and_the_hyperparameter_table_that_a_TFRecord_reader_parses()
    {
        string dir = Path.Combine(Path.GetTempPath(), "advantage-tb-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new TrainingOptions()
                .WithAlgorithm(new A2COptions { Workers = 1, EnvironmentsPerWorker = 4, RolloutLength = 5, HiddenSizes = [8], Seed = 2 })
                .WithMaxSteps(2000)
                .WithTensorBoardDirectory(dir);
            var result = await Training.RunAsync(Sys, options).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(StopReason.StepBudgetExhausted, result.Reason);

            string file = Assert.Single(Directory.GetFiles(dir, "events.out.tfevents.*"));
            var events = ReadEvents(file);
            var scalars = events.Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value.Select(v => (v.Tag, e.Step, v))).ToList();
            var tags = scalars.Select(s => s.Tag).ToHashSet();
            foreach (var tag in new[] { "charts/episodic_return", "charts/episodic_length", "charts/steps_per_second", "charts/explained_variance", "losses/policy", "losses/value", "losses/entropy" })
                Assert.Contains(tag, tags);
            var returns = scalars.Where(s => s.Tag == "charts/episodic_return").ToList();
            Assert.Equal(result.Progress.Episodes, returns.Count);
            Assert.All(returns, s => Assert.InRange(s.Step, 1, 2000));
            Assert.All(returns, s => Assert.True(s.v.SimpleValue >= 1));
            var entropy = scalars.First(s => s.Tag == "losses/entropy");
            Assert.InRange(entropy.v.SimpleValue, 0.5f, 0.7f); // near log 2 for a fresh two-action policy
            Assert.Contains(events, e => e.Summary?.Value.Any(v => v.Tag.StartsWith("hyperparameters", StringComparison.Ordinal)) == true);
            string text = string.Concat(events.Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value)
                .Where(v => v.Tag.StartsWith("hyperparameters", StringComparison.Ordinal)).Select(v => v.Tensor?.StringVal.FirstOrDefault()?.ToStringUtf8() ?? ""));
            Assert.Contains("|learning_rate|0.0007|", text);
            Assert.Contains("|envs_per_worker|4|", text);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_PPO_run_writes_its_own_scalars_under_losses_and_its_options_in_the_table()
    {
        string dir = Path.Combine(Path.GetTempPath(), "advantage-tb-" + Guid.NewGuid().ToString("N"));
        try
        {
            var options = new TrainingOptions()
                .WithAlgorithm(new PpoOptions { Workers = 1, EnvironmentsPerWorker = 4, RolloutLength = 8, HiddenSizes = [8], Seed = 2, Epochs = 3 })
                .WithMaxSteps(2000)
                .WithTensorBoardDirectory(dir);
            var result = await Training.RunAsync(Sys, options).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(StopReason.StepBudgetExhausted, result.Reason);

            var events = ReadEvents(Assert.Single(Directory.GetFiles(dir, "events.out.tfevents.*")));
            var tags = events.Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value.Select(v => v.Tag)).ToHashSet();
            foreach (var tag in new[] { "losses/approx_kl", "losses/clip_fraction", "losses/epochs", "losses/initial_ratio_error", "losses/policy" })
                Assert.Contains(tag, tags);
            string text = string.Concat(events.Where(e => e.Summary is not null).SelectMany(e => e.Summary.Value)
                .Where(v => v.Tag.StartsWith("hyperparameters", StringComparison.Ordinal)).Select(v => v.Tensor?.StringVal.FirstOrDefault()?.ToStringUtf8() ?? ""));
            Assert.Contains("|algorithm|ppo|", text);
            Assert.Contains("|epochs|3|", text);
            Assert.Contains("|clip_range|0.2|", text);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
