using System.Reflection;
using System.Reflection.Emit;
using TorchSharp;

namespace Advantage.Learning.Tests.Algorithm;

/// <summary>
/// The cause of the IMPALA learner crash of issue 22, checked where it lives: no code of Advantage.Learning may hand
/// libtorch a temporary native Scalar (an implicit conversion, or a TorchSharp overload that makes one inside, such as
/// <c>a + b</c>, <c>add_(s)</c>, <c>square()</c>, <c>2.0 * t</c>), because nothing keeps a temporary alive during the
/// native call and the finalizer may free it meanwhile. <see cref="ImpalaLearnerTests"/> shows the crash itself under
/// collections running alongside; this test names every call site, deterministically.
/// </summary>
public class KeptScalarsTests
{
    private static readonly OpCode[] OneByte = new OpCode[0x100];
    private static readonly OpCode[] TwoByte = new OpCode[0x100];

    static KeptScalarsTests()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var code = (OpCode)field.GetValue(null)!;
            ushort value = (ushort)code.Value;
            if (value < 0x100) OneByte[value] = code;
            else if ((value & 0xff00) == 0xfe00) TwoByte[value & 0xff] = code;
        }
    }

    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>The methods <paramref name="method"/>'s IL calls (call, callvirt, newobj).</summary>
    private static IEnumerable<MethodBase> Callees(MethodBase method)
    {
        byte[]? il;
        try
        {
            il = method.GetMethodBody()?.GetILAsByteArray();
        }
        catch (Exception e) when (e is FileNotFoundException or TypeLoadException or BadImageFormatException)
        {
            yield break;
        }
        if (il is null) yield break;
        var typeArguments = method.DeclaringType is { IsGenericType: true } t ? t.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            OpCode code = il[i] == 0xfe ? TwoByte[il[i + 1]] : OneByte[il[i]];
            i += code.Size;
            int operand = code.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (code == OpCodes.Call || code == OpCodes.Callvirt || code == OpCodes.Newobj)
            {
                MethodBase? callee = null;
                try
                {
                    callee = method.Module.ResolveMethod(BitConverter.ToInt32(il, i), typeArguments, methodArguments);
                }
                catch (Exception e) when (e is ArgumentException or FileNotFoundException or TypeLoadException or MissingMethodException)
                {
                }
                if (callee is not null) yield return callee;
            }
            i += operand;
        }
    }

    private static bool MakesTemporary(MethodBase callee) => callee.DeclaringType == typeof(Scalar) && callee.Name == "op_Implicit";

    private static IEnumerable<MethodBase> MethodsOf(Assembly assembly)
    {
        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            types = e.Types.Where(t => t is not null).ToArray()!;
        }
        foreach (var type in types)
        {
            MethodBase[] methods;
            try
            {
                methods = [.. type.GetMethods(All), .. type.GetConstructors(All)];
            }
            catch (Exception e) when (e is FileNotFoundException or TypeLoadException)
            {
                continue;
            }
            foreach (var m in methods) yield return m;
        }
    }

    /// <summary>TorchSharp's methods that make a temporary scalar, directly or through other TorchSharp methods.</summary>
    private static HashSet<MethodBase> TorchSharpTemporaries()
    {
        var torchSharp = typeof(Scalar).Assembly;
        var callees = MethodsOf(torchSharp).ToDictionary(m => m, m => Callees(m).ToList());
        var bad = new HashSet<MethodBase>();
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var (method, calls) in callees)
                if (!bad.Contains(method) && calls.Any(c => MakesTemporary(c) || bad.Contains(c)))
                    changed |= bad.Add(method);
        }
        return bad;
    }

    [Fact]
    public void No_code_of_the_learning_library_hands_libtorch_a_temporary_scalar()
    {
        var bad = TorchSharpTemporaries();
        Assert.Contains(typeof(torch.Tensor).GetMethod("square", Type.EmptyTypes)!, bad); // the scan sees through TorchSharp
        var found = new List<string>();
        foreach (var method in MethodsOf(typeof(ActorCriticLearner).Assembly))
            foreach (var callee in Callees(method))
                if (MakesTemporary(callee) || bad.Contains(callee))
                    found.Add($"{method.DeclaringType?.Name}.{method.Name} calls {callee.DeclaringType?.Name}.{callee.Name}({string.Join(", ", callee.GetParameters().Select(p => p.ParameterType.Name))})");
        Assert.True(found.Count == 0, "Temporary scalars handed to libtorch:\n" + string.Join("\n", found.Distinct()));
    }

    [Theory]
    [InlineData(OptimizerKind.RmsProp)]
    [InlineData(OptimizerKind.Adam)]
    public void The_learners_step_with_this_librarys_optimizers_not_TorchSharps(OptimizerKind optimizer)
    {
        // TorchSharp's own RMSProp.step and Adam.step make a temporary scalar per argument (where the crash was seen);
        // the scan above covers this library's code only, so the learner must run one of this library's optimizers.
        using var learner = new ImpalaLearner(new ImpalaOptions { Seed = 1, HiddenSizes = [8], Optimizer = optimizer }, new Networks.NetworkSpec(4, [8], 2, false));
        Assert.Equal(typeof(ActorCriticLearner).Assembly, learner.Optimizer.GetType().Assembly);
    }
}
