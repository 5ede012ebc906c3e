using Xunit.Abstractions;

namespace Advantage.Packaging.Tests;

/// <summary>
/// `dotnet new install` of the packed Advantage.Templates (into a private template hive), then
/// `dotnet new advantage-cartpole` in C# and F#: the created app restores this run's packages, builds with
/// warnings as errors and trains CartPole-v1 for 20,000 steps.
/// </summary>
[Collection(PackedFeedCollection.Name)]
public sealed class TemplateTests(PackedFeed feed, ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Theory]
    [InlineData("C#", "csharp")]
    [InlineData("F#", "fsharp")]
    public void The_template_creates_an_app_that_trains_CartPole(string language, string name)
    {
        string root = feed.ConsumerRoot();
        string hive = Path.Combine(feed.Root, "template-hive-" + name);
        string package = feed.PackagePath("Advantage.Templates");
        Assert.True(File.Exists(package), $"no template package at {package}");

        ChildResult install = ChildProcess.Run(ChildProcess.Dotnet, ["new", "install", package, "--debug:custom-hive", hive], root, Timeout);
        output.WriteLine(install.Describe(lastLines: int.MaxValue));
        Assert.True(install.Succeeded, install.Describe());

        string folder = Path.Combine(root, "template-" + name);
        ChildResult create = ChildProcess.Run(ChildProcess.Dotnet,
            ["new", "advantage-cartpole", "-lang", language, "-n", "TemplateApp", "-o", folder, "--no-update-check", "--debug:custom-hive", hive],
            root, Timeout);
        output.WriteLine(create.Describe(lastLines: int.MaxValue));
        Assert.True(create.Succeeded, create.Describe());
        string project = Path.Combine(folder, language == "F#" ? "TemplateApp.fsproj" : "TemplateApp.csproj");
        Assert.Contains($"Version=\"{feed.Version}\"", File.ReadAllText(project));

        ChildResult run = Consumers.BuildAndRun(folder, "TemplateApp.dll", ["20000"], output);
        Assert.Contains("StepBudgetExhausted: 20000 steps", run.Output);
        Assert.True(File.Exists(Path.Combine(folder, "cartpole.ckpt")), "the app saved no cartpole.ckpt");

        // The template's own environment, registered through IEnvironmentRegistration, trains too.
        string ownEnvironment = language == "F#" ? "CartPole-Short-v0" : "Corridor-v0";
        ChildResult own = ChildProcess.Run(ChildProcess.Dotnet, [Path.Combine("bin", "Release", "net10.0", "TemplateApp.dll"), "2000", ownEnvironment], folder, TimeSpan.FromMinutes(5));
        output.WriteLine(own.Describe(lastLines: int.MaxValue));
        Assert.True(own.Succeeded, own.Describe());
        Assert.Contains("StepBudgetExhausted: ", own.Output);
    }
}
