using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace RunMonitor.Tests.Browser;

/// A click or a key that loads another page. `WaitForURLAsync` after the action races: the .NET client first compares
/// the address it last heard of, then listens for the next navigation, and the navigation's events (dispatched on
/// another thread) can come between the two, after which it waits for a navigation that has already happened. Listening
/// before acting closes that window. The wait is for the new page's DOM, by which time its deferred scripts (the
/// keys, the dialogs) are bound, not for every subresource's load. Playwright marks RunAndWaitForNavigationAsync obsolete
/// in favour of WaitForURLAsync, the form that races here; it also waits for a navigation to an address equal to the
/// present one (a saved view's form sends the page back to itself), where WaitForURLAsync returns at once.
#pragma warning disable CS0612
public static class Navigation
{
    private static PageRunAndWaitForNavigationOptions To(Regex url) => new() { UrlRegex = url, WaitUntil = WaitUntilState.DOMContentLoaded };

    public static Task NavigatesToAsync(this IPage page, Regex url, Func<Task> action) =>
        page.RunAndWaitForNavigationAsync(action, To(url));

    public static Task NavigatesToAsync(this IPage page, Func<string, bool> url, Func<Task> action) =>
        page.RunAndWaitForNavigationAsync(action, new() { UrlFunc = url, WaitUntil = WaitUntilState.DOMContentLoaded });
}
#pragma warning restore CS0612
