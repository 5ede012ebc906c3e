using System.Diagnostics;
using System.Text.Json;
using Advantage.Learning;

namespace Advantage.Cli.Tests;

/// <summary>
/// Every mistake a user can make on the command line is one clear message and exit code 2, before anything starts
/// and without a stack trace; and a stop by signal is a graceful one that writes the run folder.
/// </summary>
public sealed class CliMistakeTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);
    private readonly string folder = Directory.CreateTempSubdirectory("advantage-mistakes-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static void AssertRefused(int code, string output, string expected)
    {
        Assert.True(code == 2, $"exit code {code}: {output}");
        Assert.Contains(expected, output);
        Assert.DoesNotContain("   at ", output); // no stack trace
        Assert.DoesNotContain("Exception", output);
    }

    [Theory]
    [InlineData("--lr", "0", "--lr: Algorithm.LearningRate")]
    [InlineData("--workers", "0", "--workers: Algorithm.Workers = 0")]
    [InlineData("--env", "NoSuchEnv-v9", "--env: EnvironmentId = 'NoSuchEnv-v9' is not registered")]
    [InlineData("--device", "cuda", "--device cuda")]
    public async Task A_bad_training_option_is_refused_with_the_flag_named(string flag, string value, string expected)
    {
        string output = Path.Combine(folder, "run");
        var (code, text) = await TrainCli.Run([flag, value, "--output", output], Limit);
        AssertRefused(code, text, expected);
        Assert.False(Directory.Exists(output), "Nothing is created for a refused run.");
    }

    [Fact]
    public async Task Check_prints_the_findings_and_exits_0_on_a_clean_environment_and_2_on_a_mistake()
    {
        var (code, text) = await TrainCli.Run(["check", "--env", "CartPole-v1"], Limit);
        Assert.True(code == 0, text);
        Assert.Contains("Environment 'CartPole-v1' passes its check (0 warnings", text);

        (code, text) = await TrainCli.Run(["check", "--env", "NoSuchEnv-v9"], Limit);
        AssertRefused(code, text, "--env: unknown environment 'NoSuchEnv-v9'; known: CartPole-v1");
        (code, text) = await TrainCli.Run(["check", "--env", "CartPole-v1", "--steps", "0"], Limit);
        AssertRefused(code, text, "--steps: 0 is outside [1, 10000000]");
        (code, text) = await TrainCli.Run(["--max-worker-restarts", "-1", "--output", Path.Combine(folder, "run")], Limit);
        AssertRefused(code, text, "--max-worker-restarts: MaxWorkerRestarts = -1 is outside [0, 1000000]");
    }

    [Theory]
    [InlineData(new[] { "--algo", "sarsa" }, "--algo sarsa is not one of a2c, ppo, impala")]
    [InlineData(new[] { "--max-lag", "5" }, "--max-lag applies to --algo impala only; this run trains a2c")]
    [InlineData(new[] { "--algo", "impala", "--gae-lambda", "0.9" }, "--gae-lambda applies to --algo a2c, ppo only; this run trains impala")]
    [InlineData(new[] { "--algo", "ppo", "--max-lag", "5" }, "--max-lag applies to --algo impala only; this run trains ppo")]
    [InlineData(new[] { "--optimizer", "sgd" }, "--optimizer: 'sgd' is not one of RmsProp, Adam")]
    [InlineData(new[] { "--algo", "impala", "--max-lag", "-1" }, "--max-lag: Algorithm.MaxLag = -1 is outside [0, 1000000]")]
    [InlineData(new[] { "--algo", "impala", "--rho-bar", "0" }, "--rho-bar: Algorithm.RhoBar = 0 is outside (0, 1000000]")]
    [InlineData(new[] { "--clip-range", "0.3" }, "--clip-range applies to --algo ppo only; this run trains a2c")]
    [InlineData(new[] { "--clip-schedule", "linear" }, "--clip-schedule applies to --algo ppo only; this run trains a2c")]
    [InlineData(new[] { "--algo", "ppo", "--epochs", "0" }, "--epochs: Algorithm.Epochs = 0 is outside [1, 1000]")]
    [InlineData(new[] { "--algo", "ppo", "--minibatches", "100000" }, "--minibatches: Algorithm.Minibatches = 100000 is outside [1, 65536]")]
    public async Task A_bad_algorithm_option_is_refused_with_the_flag_named(string[] flags, string expected)
    {
        string output = Path.Combine(folder, "run");
        var (code, text) = await TrainCli.Run([.. flags, "--output", output], Limit);
        AssertRefused(code, text, expected);
        Assert.False(Directory.Exists(output), "Nothing is created for a refused run.");
    }

    [Fact]
    public async Task Algo_ppo_binds_the_PPO_preset_and_its_checkpoint_resumes_only_as_PPO()
    {
        string ppo = Path.Combine(folder, "ppo");
        var (code, text) = await TrainCli.Run(["--algo", "ppo", "--epochs", "2", "--lr-schedule", "constant", "--max-steps", "1000", "--quiet", "--output", ppo], Limit);
        Assert.True(code == 0, text);
        var saved = Checkpoint.Load(Path.Combine(ppo, "last.ckpt"));
        Assert.Equal("ppo", saved.Algorithm);
        var options = Assert.IsType<PpoOptions>(saved.Options);
        // The preset decays both linearly; the flag changed one.
        Assert.Equal((ScheduleKind.Constant, ScheduleKind.Linear), (options.LearningRateSchedule, options.ClipRangeSchedule));
        Assert.Equal((2, 4, 32, 1, 2, 1e-3), (options.Workers, options.EnvironmentsPerWorker, options.RolloutLength, options.Minibatches, options.Epochs, options.LearningRate));
        Assert.Equal("ppo", Checkpoint.Load(Path.Combine(ppo, "model.ckpt")).Algorithm);
        using (var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(ppo, "summary.json"))))
            Assert.Equal("ppo", summary.RootElement.GetProperty("algorithm").GetString());

        (code, text) = await TrainCli.Run(["--resume", Path.Combine(ppo, "last.ckpt"), "--algo", "a2c", "--output", Path.Combine(folder, "a2c")], Limit);
        AssertRefused(code, text, "--algo a2c contradicts --resume, which was trained with ppo");

        (code, text) = await TrainCli.Run(["--resume", Path.Combine(ppo, "last.ckpt"), "--epochs", "3", "--max-steps", "2000", "--quiet", "--output", ppo], Limit);
        Assert.True(code == 0, text);
        Assert.Contains("Resumed run changes Epochs 2 -> 3", text);
    }

    [Fact]
    public async Task Algo_impala_binds_the_IMPALA_preset_and_its_checkpoint_resumes_as_IMPALA()
    {
        string impala = Path.Combine(folder, "impala");
        var (code, text) = await TrainCli.Run(["--algo", "impala", "--max-lag", "9", "--max-steps", "2000", "--quiet", "--output", impala], Limit);
        Assert.True(code == 0, text);
        var saved = Checkpoint.Load(Path.Combine(impala, "last.ckpt"));
        Assert.Equal("impala", saved.Algorithm);
        var options = Assert.IsType<ImpalaOptions>(saved.Options);
        Assert.Equal((2, 16, 9, 0.9), (options.Workers, options.EnvironmentsPerWorker, options.MaxLag, options.TraceLambda));
        Assert.True(saved.Progress!.Steps >= 2000);

        (code, text) = await TrainCli.Run(["--resume", Path.Combine(impala, "last.ckpt"), "--max-lag", "4", "--max-steps", "4000", "--quiet", "--output", impala], Limit);
        Assert.True(code == 0, text);
        Assert.Contains("Resumed run changes MaxLag 9 -> 4", text);
        Assert.True(Checkpoint.Load(Path.Combine(impala, "last.ckpt")).Progress!.Steps >= 4000);
    }

    [Fact]
    public async Task Output_paths_that_cannot_hold_a_run_are_refused()
    {
        string file = Path.Combine(folder, "a-file");
        File.WriteAllText(file, "");
        var (code, text) = await TrainCli.Run(["--output", file], Limit);
        AssertRefused(code, text, "is a file, not a folder");

        (code, text) = await TrainCli.Run(["--output", Path.Combine(file, "below-a-file")], Limit);
        AssertRefused(code, text, "cannot write to");

        string used = Path.Combine(folder, "used");
        Directory.CreateDirectory(used);
        File.WriteAllText(Path.Combine(used, "last.ckpt"), "another run's");
        (code, text) = await TrainCli.Run(["--output", used], Limit);
        AssertRefused(code, text, "already holds files");
        Assert.Equal("another run's", File.ReadAllText(Path.Combine(used, "last.ckpt")));
    }

    [Fact]
    public async Task A_checkpoint_of_another_environment_is_refused_for_eval_and_resume()
    {
        string acrobot = Path.Combine(folder, "acrobot");
        var (code, text) = await TrainCli.Run(["--env", "Acrobot-v1", "--max-steps", "800", "--quiet", "--output", acrobot], Limit);
        Assert.True(code == 0, text);
        string last = Path.Combine(acrobot, "last.ckpt");
        Assert.Equal("Acrobot-v1", Checkpoint.Load(last).EnvironmentId);

        (code, text) = await TrainCli.Run(["eval", "--checkpoint", last, "--env", "CartPole-v1"], Limit);
        AssertRefused(code, text, "'CartPole-v1' has 4 and 2");

        (code, text) = await TrainCli.Run(["--resume", last, "--env", "CartPole-v1", "--lr", "0.01", "--output", Path.Combine(folder, "resumed")], Limit);
        AssertRefused(code, text, "--env CartPole-v1 contradicts --resume");

        // What may change does, and the run says so.
        (code, text) = await TrainCli.Run(["--resume", last, "--lr", "0.01", "--max-steps", "1600", "--quiet", "--output", Path.Combine(folder, "resumed")], Limit);
        Assert.True(code == 0, text);
        Assert.Contains("Resumed run changes LearningRate 0.0007 -> 0.01", text);
    }

    [Theory]
    [InlineData("--nodes", "0", "--nodes = 0 is outside [1, 64]")]
    [InlineData("--nodes", "100000", "--nodes = 100000 is outside [1, 64]")]
    [InlineData("--lr", "0", "--lr: Algorithm.LearningRate")]
    public async Task Local_cluster_checks_everything_before_any_child_starts(string flag, string value, string expected)
    {
        var (code, text) = await TrainCli.Run(["local-cluster", flag, value, "--output", Path.Combine(folder, "cluster")], Limit);
        AssertRefused(code, text, expected);
        // No child spoke: the refusal came before any started (how soon is no business of a test).
        Assert.DoesNotContain("[learner]", text);
        Assert.DoesNotContain("[worker", text);
    }

    [Fact]
    public async Task A_second_learner_on_a_bound_port_is_refused_at_start()
    {
        int port = Ports.Free();
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var first = new TrainProcess("learner", ["learner", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--output", Path.Combine(folder, "first")],
            line => { if (line.StartsWith("Learner listening", StringComparison.Ordinal)) listening.TrySetResult(); });
        await listening.Task.WaitAsync(Limit);
        var (code, text) = await TrainCli.Run(["learner", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--output", Path.Combine(folder, "second")], Limit);
        AssertRefused(code, text, $"port {port} on 127.0.0.1 is already in use");
        Assert.False(first.HasExited, "The first learner is unharmed.");
    }

    [Theory]
    [InlineData(15)] // SIGTERM: timeout, docker stop, systemd
    [InlineData(2)]  // SIGINT: Ctrl-C
    public async Task A_signal_stops_train_gracefully_and_the_run_folder_is_complete(int signal)
    {
        string output = Path.Combine(folder, $"signal-{signal}");
        var started = new TaskCompletionSource();
        using var process = new TrainProcess("train", ["--max-steps", "100000000", "--target-return", "1000000", "--output", output],
            line => { if (line.StartsWith("steps ", StringComparison.Ordinal)) started.TrySetResult(); });
        await started.Task.WaitAsync(Limit);
        var clock = Stopwatch.StartNew();
        process.Signal(signal);
        int code = await process.WaitForExit(Limit);
        Assert.True(code == 0, $"exit code {code}\n{process.Tail()}");
        // After its current update, not at the step budget (which takes minutes to hours); a bound a machine at load 20 meets.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"Took {clock.Elapsed} to stop.");
        var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "summary.json"))).RootElement;
        Assert.Equal("Stopped", summary.GetProperty("stop_reason").GetString());
        var last = Checkpoint.Load(Path.Combine(output, "last.ckpt"));
        Assert.Equal(summary.GetProperty("updates").GetInt64(), last.Progress!.Version);
        Assert.True(File.Exists(Path.Combine(output, "model.ckpt")));
        Assert.True(File.ReadAllLines(Path.Combine(output, "progress.csv")).Length > 1);
    }
}
