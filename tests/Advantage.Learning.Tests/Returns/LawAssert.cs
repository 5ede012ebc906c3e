using System.Globalization;
using Advantage.Learning.Testing;
using FsCheck;
using FsCheck.Fluent;

namespace Advantage.Learning.Tests.Returns;

/// <summary>Comparisons for the laws, as labelled FsCheck properties so a failure says which element broke.</summary>
internal static class LawAssert
{
    /// <summary>Every element within <see cref="ReturnTolerance.Bound"/> of its magnitude (compared in double).</summary>
    public static Property Close(string what, IReadOnlyList<float> actual, IReadOnlyList<double> expected, IReadOnlyList<double> magnitude, int envs)
    {
        for (int i = 0; i < actual.Count; i++)
            if (!ReturnTolerance.Agree(actual[i], expected[i], magnitude[i]))
                return false.Label(string.Create(CultureInfo.InvariantCulture,
                    $"{what}: (t {i / envs}, n {i % envs}) is {actual[i]:R}, expected {expected[i]:R} within {ReturnTolerance.Bound(magnitude[i]):G3}"));
        return true.ToProperty();
    }

    /// <summary>Bitwise-equal elements (as float equality: NaN equals NaN), for laws that hold exactly.</summary>
    public static Property Same(string what, IReadOnlyList<float> actual, IReadOnlyList<float> expected, int envs)
    {
        if (actual.Count != expected.Count) return false.Label($"{what}: {actual.Count} elements, expected {expected.Count}");
        for (int i = 0; i < actual.Count; i++)
            if (!actual[i].Equals(expected[i]))
                return false.Label(string.Create(CultureInfo.InvariantCulture,
                    $"{what}: (t {i / envs}, n {i % envs}) is {actual[i]:R}, expected exactly {expected[i]:R}"));
        return true.ToProperty();
    }

    public static Property All(params Property[] properties) => properties.Aggregate((a, b) => a.And(b));
}
