using System.Text;
using Dapper;
using Microsoft.Data.Sqlite;

namespace RunMonitor.Web.Runs;

/// Which folder holds a SQLite store's artifact bytes. Retention deletes a file no run of its own database names, so a
/// folder must belong to one store: `<database folder>/artifacts/` is the store's whose database file the marker in it
/// names, written by the first store that opens the folder (a folder from before the marker, with none, is that
/// first store's, as it always was). Another store beside it (staging beside prod, a copied file, a seed) keeps its
/// bytes in `<database file name>.artifacts/`, having first copied there the files its rows name from the shared folder.
public static class ArtifactFolder
{
    public const string SharedName = "artifacts";
    public const string OwnSuffix = ".artifacts";
    public const string MarkerName = ".runmonitor-store";

    public static string PathIn(string root, string sha256) => Path.Combine(root, sha256[..2], sha256[2..]);

    /// The folder of the store whose database file is `databasePath`, claimed or made on the way.
    public static string Resolve(string databasePath)
    {
        var full = Path.GetFullPath(databasePath);
        var directory = Path.GetDirectoryName(full)!;
        var name = Path.GetFileName(full);
        var own = Path.Combine(directory, name + OwnSuffix);
        if (Directory.Exists(own)) return own;
        var shared = Path.Combine(directory, SharedName);
        Directory.CreateDirectory(shared);
        if (Claim(shared, name) == name) return shared;
        Adopt(full, shared, own);
        return own;
    }

    /// The store that owns `folder`: the marker's name, the marker written first when there is none (of two stores
    /// opening the folder at once, one writes it and the other reads it).
    private static string Claim(string folder, string name)
    {
        var marker = Path.Combine(folder, MarkerName);
        if (!File.Exists(marker))
        {
            // Written whole, then moved in place unless another store's marker got there first.
            var temp = marker + "." + Guid.NewGuid().ToString("N");
            File.WriteAllText(temp, name + "\n", Encoding.UTF8);
            try { File.Move(temp, marker, overwrite: false); }
            catch (IOException) when (File.Exists(marker)) { }
            finally { File.Delete(temp); }
        }
        return File.ReadAllText(marker, Encoding.UTF8).Trim();
    }

    private const string SelectHashes = "SELECT DISTINCT sha256 FROM artifacts";

    /// Makes the store's own folder, with a copy of every file its rows name that the shared folder holds (the
    /// bytes it kept there before the folder had an owner), assembled beside it and moved in place whole.
    private static void Adopt(string databasePath, string shared, string own)
    {
        var staging = own + ".tmp-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(staging);
        try
        {
            Claim(staging, Path.GetFileName(databasePath));
            foreach (var sha in HashesOf(databasePath))
            {
                var from = PathIn(shared, sha);
                if (!File.Exists(from)) continue;
                var to = PathIn(staging, sha);
                Directory.CreateDirectory(Path.GetDirectoryName(to)!);
                // The owner's retention may delete a file between the look and the copy: then it is gone for both, as
                // it would have been without the copy; the start-up goes on.
                try { File.Copy(from, to); }
                catch (FileNotFoundException) { }
            }
            Directory.Move(staging, own);
        }
        catch (IOException) when (Directory.Exists(own)) { }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// The hashes the store's rows name: none for a database not made yet or from before artifacts.
    private static List<string> HashesOf(string databasePath)
    {
        if (!File.Exists(databasePath)) return [];
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath, Mode = SqliteOpenMode.ReadOnly, Pooling = false,
        }.ToString());
        connection.Open();
        var hasTable = connection.ExecuteScalar<long>("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'artifacts'") > 0;
        if (!hasTable) return [];
        // A name that is not a sha256 never becomes a path.
        return connection.Query<string>(SelectHashes).Where(s => s.Length == 64 && s.All(char.IsAsciiHexDigitLower)).ToList();
    }
}
