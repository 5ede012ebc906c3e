using System.CommandLine;
using Advantage.Learning;

namespace Advantage.Cli;

/// <summary>
/// <c>export --checkpoint FILE --output model.onnx [--overwrite]</c>: writes the checkpoint's policy as an ONNX model
/// (<see cref="OnnxExport"/>) that ONNX Runtime runs without TorchSharp or Advantage.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Checkpoint file (model.ckpt, last.ckpt or best.ckpt) or a finished run folder", Required = true };
        var output = new Option<string>("--output") { Description = "The ONNX model to write, e.g. model.onnx", Required = true };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing output file" };

        var command = new Command("export", "Export a checkpoint's policy to ONNX (normaliser, body, heads and value; opset 17).") { checkpoint, output, overwrite, AlgorithmAssemblies.Option() };
        command.SetAction(parse =>
        {
            string from = parse.GetValue(checkpoint)!, to = parse.GetValue(output)!;
            if (!parse.GetValue(overwrite) && (File.Exists(to) || Directory.Exists(to)))
            {
                Console.Error.WriteLine($"--output: '{to}' already exists; pass --overwrite to replace it.");
                return 2;
            }
            Checkpoint saved;
            try
            {
                if (RunHost.CheckpointFile(from) is not { } file) return 2;
                saved = Checkpoint.Load(file);
                _ = OnnxExport.ToBytes(saved); // a checkpoint whose parts do not fit is the checkpoint's problem, not the output's
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"--checkpoint: {e.Message}");
                return 2;
            }
            try
            {
                OnnxExport.Save(saved, to, parse.GetValue(overwrite));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"--output: cannot write '{to}': {e.Message}");
                return 2;
            }
            Console.WriteLine($"Wrote {to}: {(saved.Spec.Continuous ? "Gaussian" : "categorical")} policy" +
                $"{(saved.EnvironmentId is { } id ? $" for {id}" : "")}, input '{OnnxExport.ObservationInput}' [batch, {saved.Spec.ObservationSize}], " +
                $"outputs {(saved.Spec.Continuous ? $"'{OnnxExport.ActionOutput}', '{OnnxExport.MeanOutput}', '{OnnxExport.LogStdOutput}'" : $"'{OnnxExport.ActionOutput}', '{OnnxExport.LogitsOutput}', '{OnnxExport.ProbabilitiesOutput}'")}, '{OnnxExport.ValueOutput}'; " +
                $"observation normaliser {(saved.ObservationStatistics is null ? "none" : "folded in")}.");
            return 0;
        });
        return command;
    }
}
