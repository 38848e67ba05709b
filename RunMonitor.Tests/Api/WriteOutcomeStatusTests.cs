using Microsoft.AspNetCore.Http;
using RunMonitor.Web.Api;
using RunMonitor.Web.Runs;

namespace RunMonitor.Tests.Api;

public sealed class WriteOutcomeStatusTests
{
    [Theory]
    [InlineData(WriteOutcome.Ok, 200)]
    [InlineData(WriteOutcome.Created, 201)]
    [InlineData(WriteOutcome.NotFound, 404)]
    [InlineData(WriteOutcome.Conflict, 409)]
    [InlineData(WriteOutcome.Forbidden, 403)]
    [InlineData(WriteOutcome.Invalid, 400)]
    public void Of_EachOutcome_GivesItsStatus(WriteOutcome outcome, int expected) =>
        Assert.Equal(expected, WriteOutcomeStatus.Of(outcome));

    [Theory]
    [InlineData(WriteOutcome.NotFound)]
    [InlineData(WriteOutcome.Conflict)]
    [InlineData(WriteOutcome.Forbidden)]
    [InlineData(WriteOutcome.Invalid)]
    public void ProblemsFrom_EachRefusal_AnswersTheMapsStatus(WriteOutcome outcome)
    {
        var result = Assert.IsAssignableFrom<IStatusCodeHttpResult>(Problems.From(outcome, "why", "r1"));

        Assert.Equal(WriteOutcomeStatus.Of(outcome), result.StatusCode);
    }
}
