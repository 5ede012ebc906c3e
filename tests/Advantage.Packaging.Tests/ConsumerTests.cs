using Xunit.Abstractions;

namespace Advantage.Packaging.Tests;

/// <summary>
/// A C# and an F# console project, created outside the repository as a user would, restore the packages
/// from the packed folder (everything else from NuGet's usual sources, with no pins of their own), build with
/// warnings as errors, and train CartPole-v1 for 20,000 steps through <c>Training.Start</c>. On Debian 12
/// this also proves the native fix travels: TorchSharp only loads there because the package's
/// buildTransitive targets patched the consumer's copy of libLibTorchSharp.so.
/// </summary>
[Collection(PackedFeedCollection.Name)]
public sealed class ConsumerTests(PackedFeed feed, ITestOutputHelper output)
{
    [Fact]
    public void A_CSharp_console_app_trains_CartPole_from_the_packages()
    {
        string project = Consumer("csharp", "Consumer.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Advantage.Hosting" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """,
            ("Program.cs", """
            using Advantage.Actors;
            using Advantage.Learning;
            using Akka.Actor;
            using Akka.Configuration;

            using var system = ActorSystem.Create("csharp-consumer", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
            var options = new TrainingOptions
            {
                Algorithm = A2CPresets.For("CartPole-v1").WithSeed(1),
                EnvironmentId = "CartPole-v1",
                MaxSteps = 20_000,
                OutputDirectory = "run",
            };
            TrainingRun run = Training.Start(system, options, p => Console.WriteLine($"{p.Steps} steps, mean return {p.MeanReturn:F1}"));
            TrainingResult result = await run.Completion;
            Console.WriteLine($"finished: {result.Reason} at {result.Progress.Steps} steps");
            await system.Terminate();
            // The library writes the whole run folder, the learning curve's PNG (SkiaSharp's natives from the packages) included.
            string[] missing = new[] { "progress.csv", "episodes.csv", "summary.json", "learning_curve.png", "model.ckpt", "last.ckpt", "tensorboard" }
                .Where(f => !File.Exists(Path.Combine("run", f)) && !Directory.Exists(Path.Combine("run", f))).ToArray();
            Console.WriteLine($"run folder missing: [{string.Join(", ", missing)}], problems: [{string.Join("; ", result.OutputProblems)}]");
            return result.Progress.Steps >= 20_000 && missing.Length == 0 && result.OutputProblems.Count == 0 ? 0 : 1;
            """));
        BuildAndRun(project, "Consumer.dll");
    }

    [Fact]
    public void An_FSharp_console_app_trains_CartPole_from_the_packages()
    {
        string project = Consumer("fsharp", "Consumer.fsproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <Compile Include="Program.fs" />
              </ItemGroup>
              <ItemGroup>
                <PackageReference Include="Advantage.Actors" Version="{feed.Version}" />
                <PackageReference Include="Advantage.Learning.Testing" Version="{feed.Version}" />
              </ItemGroup>
            </Project>
            """,
            ("Program.fs", """
            open Advantage.Actors
            open Advantage.Learning
            open Akka.Actor
            open Akka.Configuration

            let options =
                TrainingOptions(
                    Algorithm = A2CPresets.For("CartPole-v1").WithSeed(2),
                    EnvironmentId = "CartPole-v1",
                    MaxSteps = 20_000L)

            let train () =
                task {
                    use system = ActorSystem.Create("fsharp-consumer", ConfigurationFactory.ParseString "akka.loglevel = WARNING")
                    let run = Training.Start(system, options, fun p -> printfn $"%d{p.Steps} steps, mean return %.1f{p.MeanReturn}")
                    let! result = run.Completion
                    printfn $"finished: %A{result.Reason} at %d{result.Progress.Steps} steps"
                    do! system.Terminate()
                    return if result.Progress.Steps >= 20_000L then 0 else 1
                }

            [<EntryPoint>]
            let main _ = (train ()).GetAwaiter().GetResult()
            """));
        BuildAndRun(project, "Consumer.dll");
    }

    [Fact]
    public void README_hosting_example_builds_from_the_packages_it_names_and_reads_the_result_through_DI()
    {
        // README's hosting example as written: its `dotnet add package` lines are the project's only references, its
        // program is the app. It trains CartPole-v1 to the target and prints where to resume from.
        string readme = File.ReadAllText(Path.Combine(Repository.Root, "README.md"));
        const string Marker = "project it needs two packages:";
        int at = readme.IndexOf(Marker, StringComparison.Ordinal);
        Assert.True(at >= 0, $"README has no '{Marker}'.");
        string packagesBlock = Block(readme, at, "");
        string program = Block(readme, at, "csharp");
        var packages = packagesBlock.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('#')[0].Trim())
            .Where(line => line.StartsWith("dotnet add package ", StringComparison.Ordinal))
            .Select(line => line["dotnet add package ".Length..].Trim())
            .ToArray();
        Assert.Equal(["Advantage.Hosting", "Microsoft.Extensions.Hosting"], packages);
        string references = string.Join("\n", packages.Select(id =>
            $"    <PackageReference Include=\"{id}\" Version=\"{(id.StartsWith("Advantage.", StringComparison.Ordinal) ? feed.Version : "9.0.0")}\" />"));
        string project = Consumer("hosted", "Hosted.csproj", $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
            {references}
              </ItemGroup>
            </Project>
            """,
            ("Program.cs", program));
        ChildResult run = Consumers.BuildAndRun(project, "Hosted.dll", [], output);
        Assert.Contains("TargetReached at ", run.Output);
        Assert.Contains($"resume from {Path.Combine("runs", "hosted", "last.ckpt")}", run.Output);
        Assert.True(File.Exists(Path.Combine(project, "runs", "hosted", "summary.json")));
    }

    /// <summary>The first fenced block of <paramref name="language"/> ("" for a bare fence) after <paramref name="from"/>.</summary>
    private static string Block(string text, int from, string language)
    {
        string fence = $"```{language}\n";
        int start = text.IndexOf(fence, from, StringComparison.Ordinal);
        Assert.True(start >= 0, $"README has no {(language.Length == 0 ? "bare" : language)} block after position {from}.");
        start += fence.Length;
        return text[start..text.IndexOf("```", start, StringComparison.Ordinal)];
    }

    /// <summary>Writes a project in its own folder under the feed's consumer root.</summary>
    private string Consumer(string name, string projectFile, string projectXml, params (string Name, string Text)[] sources)
    {
        string folder = Path.Combine(feed.ConsumerRoot(), name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, projectFile), projectXml);
        foreach (var (file, text) in sources) File.WriteAllText(Path.Combine(folder, file), text);
        return folder;
    }

    private void BuildAndRun(string folder, string assembly)
    {
        ChildResult run = Consumers.BuildAndRun(folder, assembly, [], output);
        Assert.Contains("finished: StepBudgetExhausted at 20000 steps", run.Output);
    }
}

/// <summary>Builds a consumer project as a user would and runs what it built.</summary>
internal static class Consumers
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(5);

    /// <summary>`dotnet build -c Release -warnaserror` (restore included), then `dotnet bin/Release/net10.0/ASSEMBLY ARGS`; both must exit 0.</summary>
    public static ChildResult BuildAndRun(string folder, string assembly, IReadOnlyList<string> arguments, ITestOutputHelper output)
    {
        ChildResult build = ChildProcess.Run(ChildProcess.Dotnet, ["build", "-c", "Release", "--disable-build-servers", "-warnaserror"], folder, BuildTimeout);
        output.WriteLine(build.Describe(lastLines: int.MaxValue));
        Assert.True(build.Succeeded, build.Describe());

        ChildResult run = ChildProcess.Run(ChildProcess.Dotnet, [Path.Combine("bin", "Release", "net10.0", assembly), .. arguments], folder, RunTimeout);
        output.WriteLine(run.Describe(lastLines: int.MaxValue));
        Assert.True(run.Succeeded, run.Describe());
        return run;
    }
}
