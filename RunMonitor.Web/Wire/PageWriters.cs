using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.Mvc.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace RunMonitor.Web.Wire;

/// The writer a page is copied out through once Razor has rendered it whole. MVC's own holds 16K characters, so a run
/// page (70 KB, 40 KB of it the inline style sheet) left in five writes, each a send and a wake-up of the reader; with
/// 64K it leaves in two. The buffers come from the shared pools, as MVC's do.
public sealed class PageWriters : IHttpResponseStreamWriterFactory
{
    public const int BufferChars = 64 * 1024;

    public TextWriter CreateWriter(Stream stream, Encoding encoding) =>
        new HttpResponseStreamWriter(stream, encoding, BufferChars, ArrayPool<byte>.Shared, ArrayPool<char>.Shared);
}
