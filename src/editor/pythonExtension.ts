// The Python extension's interpreter choice, read through its exported API when it is installed
// (no dependency on the package: its `environments` API is read duck-typed and may be absent).
import * as vscode from 'vscode';

interface PythonExtensionApi {
  environments?: { getActiveEnvironmentPath(resource?: vscode.Uri): { path: string } | undefined };
}

/** The interpreter the Python extension has selected for `resource`, or undefined without one. */
export async function pythonFromExtension(resource?: vscode.Uri): Promise<string | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
  if (!ext) return undefined;
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    const path = api?.environments?.getActiveEnvironmentPath(resource)?.path;
    return path && path !== 'python' ? path : undefined;
  } catch {
    return undefined;
  }
}
