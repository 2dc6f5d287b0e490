// Vite answers `import url from 'file?url'` with the URL of the file it copied into the build.
declare module '*?url' {
  const url: string;
  export default url;
}
