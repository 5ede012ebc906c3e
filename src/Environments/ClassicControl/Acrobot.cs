namespace Advantage.Environments;

/// <summary>
/// The two-link acrobot swing-up task with Gymnasium 0.29.1's <c>AcrobotEnv</c> dynamics ("book"
/// equations, one RK4 step of 0.2 s, no torque noise), so results compare with the Python baselines.
/// Register it wrapped in <see cref="TimeLimit"/> (500 steps) to get <c>Acrobot-v1</c>.
/// </summary>
/// <remarks>
/// Reward is -1 per step and 0 on the step that reaches the goal height. Reset draws each state
/// component from U(-0.1, 0.1) with <see cref="NumPyRandom"/> (Gymnasium's generator, so a seed gives
/// Gymnasium's start) and rounds the state to float32, as Gymnasium does; steps then integrate
/// in float64. Angles are wrapped to [-pi, pi] and velocities clipped to 4 pi and 9 pi.
/// </remarks>
public sealed class Acrobot : IStatefulEnvironment, IResumableEnvironment
{
    private const double Dt = 0.2;
    private const double LinkLength1 = 1.0;
    private const double LinkMass1 = 1.0;
    private const double LinkMass2 = 1.0;
    private const double LinkComPosition1 = 0.5;
    private const double LinkComPosition2 = 0.5;
    private const double LinkMomentOfInertia = 1.0;
    private const double G = 9.8;

    /// <summary>The bound on the first joint's angular velocity.</summary>
    public const double MaxVelocity1 = 4 * Math.PI;

    /// <summary>The bound on the second joint's angular velocity.</summary>
    public const double MaxVelocity2 = 9 * Math.PI;

    private static readonly Discrete Actions = new(3);

    private static readonly Box Observations = new(
        [6],
        [-1f, -1f, -1f, -1f, -(float)MaxVelocity1, -(float)MaxVelocity2],
        [1f, 1f, 1f, 1f, (float)MaxVelocity1, (float)MaxVelocity2]);

    private readonly NumPyRandom random = new();
    private double theta1, theta2, dtheta1, dtheta2;
    private bool started;

    /// <inheritdoc />
    /// <remarks>cos θ1, sin θ1, cos θ2, sin θ2, dθ1, dθ2.</remarks>
    public Space ObservationSpace => Observations;

    /// <inheritdoc />
    /// <remarks><c>Discrete(3)</c>: torque -1, 0, +1 on the second joint.</remarks>
    public Space ActionSpace => Actions;

    /// <inheritdoc />
    public int StateSize => 4;

    /// <inheritdoc />
    /// <remarks>
    /// Draws θ1, θ2, dθ1, dθ2 in that order, as Gymnasium's <c>uniform(-0.1, 0.1, size=(4,)).astype(float32)</c>.
    /// The seeding contract is Gymnasium's (see <see cref="NumPyRandom"/>): <c>Reset(seed)</c> starts the
    /// episode <c>env.reset(seed=seed)</c> starts, <c>Reset(null)</c> draws on from the same stream, and
    /// before any seed the stream is seed <see cref="NumPyRandom.DefaultSeed"/>'s.
    /// </remarks>
    public void Reset(int? seed, Span<float> observation)
    {
        Guard.Observation(observation, Observations);
        if (seed is int s) random.Reseed(NumPyRandom.FromEnvironmentSeed(s));
        // Gymnasium casts the reset state to float32; the first step starts from those rounded values.
        theta1 = (float)random.Uniform(-0.1, 0.1);
        theta2 = (float)random.Uniform(-0.1, 0.1);
        dtheta1 = (float)random.Uniform(-0.1, 0.1);
        dtheta2 = (float)random.Uniform(-0.1, 0.1);
        started = true;
        WriteObservation(observation);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">The action is not 0, 1 or 2.</exception>
    public StepResult Step(ReadOnlySpan<float> action, Span<float> observation)
    {
        int a = Guard.DiscreteAction(action, Actions);
        Guard.Observation(observation, Observations);
        Guard.Started(started, nameof(Acrobot));
        double torque = a - 1.0;

        // One classical RK4 step over [0, dt], in the same operation order as Gymnasium's rk4().
        const double h = Dt, h2 = h / 2.0;
        double y0 = theta1, y1 = theta2, y2 = dtheta1, y3 = dtheta2;
        var k1 = Derivatives(y0, y1, y2, y3, torque);
        var k2 = Derivatives(y0 + h2 * k1.A, y1 + h2 * k1.B, y2 + h2 * k1.C, y3 + h2 * k1.D, torque);
        var k3 = Derivatives(y0 + h2 * k2.A, y1 + h2 * k2.B, y2 + h2 * k2.C, y3 + h2 * k2.D, torque);
        var k4 = Derivatives(y0 + h * k3.A, y1 + h * k3.B, y2 + h * k3.C, y3 + h * k3.D, torque);
        const double w = h / 6.0;
        theta1 = Wrap(y0 + w * (k1.A + 2 * k2.A + 2 * k3.A + k4.A));
        theta2 = Wrap(y1 + w * (k1.B + 2 * k2.B + 2 * k3.B + k4.B));
        dtheta1 = Math.Min(Math.Max(y2 + w * (k1.C + 2 * k2.C + 2 * k3.C + k4.C), -MaxVelocity1), MaxVelocity1);
        dtheta2 = Math.Min(Math.Max(y3 + w * (k1.D + 2 * k2.D + 2 * k3.D + k4.D), -MaxVelocity2), MaxVelocity2);

        bool terminated = -Math.Cos(theta1) - Math.Cos(theta2 + theta1) > 1.0;
        WriteObservation(observation);
        return new StepResult(terminated ? 0.0 : -1.0, terminated, false);
    }

    /// <inheritdoc />
    /// <remarks>Order: θ1, θ2, dθ1, dθ2.</remarks>
    public double[] GetState() => [theta1, theta2, dtheta1, dtheta2];

    /// <inheritdoc />
    /// <remarks>Order: θ1, θ2, dθ1, dθ2.</remarks>
    public void SetState(ReadOnlySpan<double> state)
    {
        Guard.State(state, StateSize);
        (theta1, theta2, dtheta1, dtheta2) = (state[0], state[1], state[2], state[3]);
        started = true;
    }

    /// <inheritdoc />
    public void WriteObservation(Span<float> observation)
    {
        Guard.Observation(observation, Observations);
        observation[0] = (float)Math.Cos(theta1);
        observation[1] = (float)Math.Sin(theta1);
        observation[2] = (float)Math.Cos(theta2);
        observation[3] = (float)Math.Sin(theta2);
        observation[4] = (float)dtheta1;
        observation[5] = (float)dtheta2;
    }

    private readonly record struct Derivative(double A, double B, double C, double D);

    // The "book" equations of motion (Sutton and Barto), term by term in Gymnasium's association order.
    private static Derivative Derivatives(double theta1, double theta2, double dtheta1, double dtheta2, double a)
    {
        const double m1 = LinkMass1, m2 = LinkMass2, l1 = LinkLength1;
        const double lc1 = LinkComPosition1, lc2 = LinkComPosition2;
        const double i1 = LinkMomentOfInertia, i2 = LinkMomentOfInertia;
        double cos2 = Math.Cos(theta2);
        double sin2 = Math.Sin(theta2);
        double d1 = m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2 * l1 * lc2 * cos2) + i1 + i2;
        double d2 = m2 * (lc2 * lc2 + l1 * lc2 * cos2) + i2;
        double phi2 = m2 * lc2 * G * Math.Cos(theta1 + theta2 - Math.PI / 2.0);
        double phi1 = -m2 * l1 * lc2 * (dtheta2 * dtheta2) * sin2
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * sin2
            + (m1 * lc1 + m2 * l1) * G * Math.Cos(theta1 - Math.PI / 2)
            + phi2;
        double ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * (dtheta1 * dtheta1) * sin2 - phi2)
            / (m2 * (lc2 * lc2) + i2 - d2 * d2 / d1);
        double ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
        return new Derivative(dtheta1, dtheta2, ddtheta1, ddtheta2);
    }

    private static double Wrap(double angle)
    {
        const double diff = Math.PI - -Math.PI;
        while (angle > Math.PI) angle -= diff;
        while (angle < -Math.PI) angle += diff;
        return angle;
    }

    /// <inheritdoc />
    public bool CanSave => true;

    /// <inheritdoc />
    public byte[] Save() => SavedState.Write(nameof(Acrobot), w =>
    {
        w.WriteDoubles(GetState());
        w.Write(started);
        w.WriteRandom(random);
    });

    /// <inheritdoc />
    public void Restore(ReadOnlySpan<byte> saved) => SavedState.Read(saved, nameof(Acrobot), r =>
    {
        double[] state = r.ReadDoubles();
        bool wasStarted = r.ReadBoolean();
        r.ReadRandom(random);
        SetState(state);
        started = wasStarted;
    });
}
