using System.Globalization;
using System.Text.RegularExpressions;
using Advantage.Learning;

namespace Advantage.Cli.Tests;

/// <summary><c>--help</c> tells the defaults of the algorithm the user chose with <c>--algo</c>, not A2C's.</summary>
public sealed class CliHelpTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    /// <summary>The help text with its wrapping undone (a long description wraps at the console's width).</summary>
    private static async Task<string> Help(params string[] args)
    {
        var (code, text) = await TrainCli.Run(args, Limit);
        Assert.True(code == 0, $"exit code {code}: {text}");
        return Regex.Replace(text, @"\s+", " ");
    }

    private static string I(double value) => value.ToString(CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("ppo")]
    [InlineData("impala")]
    public async Task Help_after_algo_shows_that_algorithms_preset(string algorithm)
    {
        var preset = Learners.Preset(algorithm, "CartPole-v1");

        foreach (string[] command in new[] { new[] { "--algo", algorithm, "--help" }, ["--help", "--algo=" + algorithm], ["learner", "--algo", algorithm, "--help"] })
        {
            string help = await Help(command);
            Assert.Contains($"Learning rate [default: the --algo and --env preset; {algorithm} on CartPole-v1: {I(preset.LearningRate)}]", help);
            Assert.Contains($"Rollout length T (steps per environment per update) [default: the --algo and --env preset; {algorithm} on CartPole-v1: {preset.RolloutLength.ToString(CultureInfo.InvariantCulture)}]", help);
            Assert.Contains($"Worker actors of the run [default: the --algo and --env preset; {algorithm} on CartPole-v1: {preset.Workers.ToString(CultureInfo.InvariantCulture)}]", help);
            Assert.DoesNotContain("a2c on CartPole-v1", help);
            // The chosen algorithm's own flags show its preset too; another algorithm's say whose they are.
            foreach (var option in Algorithms.Get(algorithm).Options.Where(o => o.Flag is not null && o.SwitchValue is null))
                Assert.Contains($"{option.Help} (--algo {string.Join(", ", Algorithms.All.Where(d => d.Options.Contains(option)).Select(d => d.Name))}) [default: the --algo and --env preset; {algorithm} on CartPole-v1: {option.Format(option.Get(preset))}]", help);
            Assert.Contains(algorithm == "ppo" ? "Drop rollouts collected more than this many versions ago (--algo impala only)" : "Passes over each round's batch (--algo ppo only)", help);
        }

        string plain = await Help("--help");
        Assert.Contains($"Learning rate [default: the --algo and --env preset; a2c on CartPole-v1: {I(A2CPresets.For("CartPole-v1").LearningRate)}]", plain);
    }
}
