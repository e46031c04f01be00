import * as $protobuf from "protobufjs";
import Long = require("long");

/** Namespace trove. */
export namespace trove {

    /** Namespace v1. */
    namespace v1 {

        /** EntryKind enum. */
        enum EntryKind {

            /** ENTRY_KIND_UNSPECIFIED value */
            ENTRY_KIND_UNSPECIFIED = 0,

            /** ENTRY_KIND_FILE value */
            ENTRY_KIND_FILE = 1,

            /** ENTRY_KIND_DIR value */
            ENTRY_KIND_DIR = 2,

            /** ENTRY_KIND_SYMLINK value */
            ENTRY_KIND_SYMLINK = 3
        }

        /**
         * Properties of a Xattr.
         * @deprecated Use trove.v1.Xattr.$Properties instead.
         */
        interface IXattr extends trove.v1.Xattr.$Properties {
        }

        /** Represents a Xattr. */
        class Xattr {

            /**
             * Constructs a new Xattr.
             * @param [p] Properties to set
             */
            constructor(p?: trove.v1.Xattr.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** Xattr name. */
            name: string;

            /** Xattr value. */
            value: Uint8Array;

            /**
             * Creates a new Xattr instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Xattr instance
             */
            static create(properties: trove.v1.Xattr.$Shape): trove.v1.Xattr & trove.v1.Xattr.$Shape;
            static create(properties?: trove.v1.Xattr.$Properties): trove.v1.Xattr;

            /**
             * Encodes the specified Xattr message. Does not implicitly {@link trove.v1.Xattr.verify|verify} messages.
             * @param m Xattr message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            static encode(m: trove.v1.Xattr.$Properties, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Xattr message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns {trove.v1.Xattr & trove.v1.Xattr.$Shape} Xattr
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(r: ($protobuf.Reader|Uint8Array), l?: number): trove.v1.Xattr & trove.v1.Xattr.$Shape;

            /**
             * Gets the type url for Xattr
             * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns The type url
             */
            static getTypeUrl(prefix?: string): string;
        }

        namespace Xattr {

            /** Properties of a Xattr. */
            interface $Properties {

                /** Xattr name */
                name?: (string|null);

                /** Xattr value */
                value?: (Uint8Array|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a Xattr. */
            type $Shape = trove.v1.Xattr.$Properties;
        }

        /**
         * Properties of a TreeEntry.
         * @deprecated Use trove.v1.TreeEntry.$Properties instead.
         */
        interface ITreeEntry extends trove.v1.TreeEntry.$Properties {
        }

        /** Represents a TreeEntry. */
        class TreeEntry {

            /**
             * Constructs a new TreeEntry.
             * @param [p] Properties to set
             */
            constructor(p?: trove.v1.TreeEntry.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** TreeEntry name. */
            name: string;

            /** TreeEntry kind. */
            kind: trove.v1.EntryKind;

            /** TreeEntry id. */
            id: Uint8Array;

            /** TreeEntry mode. */
            mode: number;

            /** TreeEntry uid. */
            uid: number;

            /** TreeEntry gid. */
            gid: number;

            /** TreeEntry size. */
            size: number;

            /** TreeEntry target. */
            target: string;

            /** TreeEntry xattrs. */
            xattrs: trove.v1.Xattr.$Properties[];

            /**
             * Creates a new TreeEntry instance using the specified properties.
             * @param [properties] Properties to set
             * @returns TreeEntry instance
             */
            static create(properties: trove.v1.TreeEntry.$Shape): trove.v1.TreeEntry & trove.v1.TreeEntry.$Shape;
            static create(properties?: trove.v1.TreeEntry.$Properties): trove.v1.TreeEntry;

            /**
             * Encodes the specified TreeEntry message. Does not implicitly {@link trove.v1.TreeEntry.verify|verify} messages.
             * @param m TreeEntry message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            static encode(m: trove.v1.TreeEntry.$Properties, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a TreeEntry message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns {trove.v1.TreeEntry & trove.v1.TreeEntry.$Shape} TreeEntry
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(r: ($protobuf.Reader|Uint8Array), l?: number): trove.v1.TreeEntry & trove.v1.TreeEntry.$Shape;

            /**
             * Gets the type url for TreeEntry
             * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns The type url
             */
            static getTypeUrl(prefix?: string): string;
        }

        namespace TreeEntry {

            /** Properties of a TreeEntry. */
            interface $Properties {

                /** TreeEntry name */
                name?: (string|null);

                /** TreeEntry kind */
                kind?: (trove.v1.EntryKind|null);

                /** TreeEntry id */
                id?: (Uint8Array|null);

                /** TreeEntry mode */
                mode?: (number|null);

                /** TreeEntry uid */
                uid?: (number|null);

                /** TreeEntry gid */
                gid?: (number|null);

                /** TreeEntry size */
                size?: (number|null);

                /** TreeEntry target */
                target?: (string|null);

                /** TreeEntry xattrs */
                xattrs?: (trove.v1.Xattr.$Properties[]|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a TreeEntry. */
            type $Shape = trove.v1.TreeEntry.$Properties;
        }

        /**
         * Properties of a Tree.
         * @deprecated Use trove.v1.Tree.$Properties instead.
         */
        interface ITree extends trove.v1.Tree.$Properties {
        }

        /** Represents a Tree. */
        class Tree {

            /**
             * Constructs a new Tree.
             * @param [p] Properties to set
             */
            constructor(p?: trove.v1.Tree.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** Tree entries. */
            entries: trove.v1.TreeEntry.$Properties[];

            /**
             * Creates a new Tree instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Tree instance
             */
            static create(properties: trove.v1.Tree.$Shape): trove.v1.Tree & trove.v1.Tree.$Shape;
            static create(properties?: trove.v1.Tree.$Properties): trove.v1.Tree;

            /**
             * Encodes the specified Tree message. Does not implicitly {@link trove.v1.Tree.verify|verify} messages.
             * @param m Tree message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            static encode(m: trove.v1.Tree.$Properties, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Tree message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns {trove.v1.Tree & trove.v1.Tree.$Shape} Tree
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(r: ($protobuf.Reader|Uint8Array), l?: number): trove.v1.Tree & trove.v1.Tree.$Shape;

            /**
             * Gets the type url for Tree
             * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns The type url
             */
            static getTypeUrl(prefix?: string): string;
        }

        namespace Tree {

            /** Properties of a Tree. */
            interface $Properties {

                /** Tree entries */
                entries?: (trove.v1.TreeEntry.$Properties[]|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a Tree. */
            type $Shape = trove.v1.Tree.$Properties;
        }

        /**
         * Properties of a DirMeta.
         * @deprecated Use trove.v1.DirMeta.$Properties instead.
         */
        interface IDirMeta extends trove.v1.DirMeta.$Properties {
        }

        /** Represents a DirMeta. */
        class DirMeta {

            /**
             * Constructs a new DirMeta.
             * @param [p] Properties to set
             */
            constructor(p?: trove.v1.DirMeta.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** DirMeta mode. */
            mode: number;

            /** DirMeta uid. */
            uid: number;

            /** DirMeta gid. */
            gid: number;

            /** DirMeta xattrs. */
            xattrs: trove.v1.Xattr.$Properties[];

            /**
             * Creates a new DirMeta instance using the specified properties.
             * @param [properties] Properties to set
             * @returns DirMeta instance
             */
            static create(properties: trove.v1.DirMeta.$Shape): trove.v1.DirMeta & trove.v1.DirMeta.$Shape;
            static create(properties?: trove.v1.DirMeta.$Properties): trove.v1.DirMeta;

            /**
             * Encodes the specified DirMeta message. Does not implicitly {@link trove.v1.DirMeta.verify|verify} messages.
             * @param m DirMeta message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            static encode(m: trove.v1.DirMeta.$Properties, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a DirMeta message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns {trove.v1.DirMeta & trove.v1.DirMeta.$Shape} DirMeta
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(r: ($protobuf.Reader|Uint8Array), l?: number): trove.v1.DirMeta & trove.v1.DirMeta.$Shape;

            /**
             * Gets the type url for DirMeta
             * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns The type url
             */
            static getTypeUrl(prefix?: string): string;
        }

        namespace DirMeta {

            /** Properties of a DirMeta. */
            interface $Properties {

                /** DirMeta mode */
                mode?: (number|null);

                /** DirMeta uid */
                uid?: (number|null);

                /** DirMeta gid */
                gid?: (number|null);

                /** DirMeta xattrs */
                xattrs?: (trove.v1.Xattr.$Properties[]|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a DirMeta. */
            type $Shape = trove.v1.DirMeta.$Properties;
        }

        /**
         * Properties of a KeyValue.
         * @deprecated Use trove.v1.KeyValue.$Properties instead.
         */
        interface IKeyValue extends trove.v1.KeyValue.$Properties {
        }

        /** Represents a KeyValue. */
        class KeyValue {

            /**
             * Constructs a new KeyValue.
             * @param [p] Properties to set
             */
            constructor(p?: trove.v1.KeyValue.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** KeyValue key. */
            key: string;

            /** KeyValue value. */
            value: string;

            /**
             * Creates a new KeyValue instance using the specified properties.
             * @param [properties] Properties to set
             * @returns KeyValue instance
             */
            static create(properties: trove.v1.KeyValue.$Shape): trove.v1.KeyValue & trove.v1.KeyValue.$Shape;
            static create(properties?: trove.v1.KeyValue.$Properties): trove.v1.KeyValue;

            /**
             * Encodes the specified KeyValue message. Does not implicitly {@link trove.v1.KeyValue.verify|verify} messages.
             * @param m KeyValue message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            static encode(m: trove.v1.KeyValue.$Properties, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a KeyValue message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns {trove.v1.KeyValue & trove.v1.KeyValue.$Shape} KeyValue
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(r: ($protobuf.Reader|Uint8Array), l?: number): trove.v1.KeyValue & trove.v1.KeyValue.$Shape;

            /**
             * Gets the type url for KeyValue
             * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns The type url
             */
            static getTypeUrl(prefix?: string): string;
        }

        namespace KeyValue {

            /** Properties of a KeyValue. */
            interface $Properties {

                /** KeyValue key */
                key?: (string|null);

                /** KeyValue value */
                value?: (string|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a KeyValue. */
            type $Shape = trove.v1.KeyValue.$Properties;
        }

        /**
         * Properties of a PackageInfo.
         * @deprecated Use trove.v1.PackageInfo.$Properties instead.
         */
        interface IPackageInfo extends trove.v1.PackageInfo.$Properties {
        }

        /** Represents a PackageInfo. */
        class PackageInfo {

            /**
             * Constructs a new PackageInfo.
             * @param [p] Properties to set
             */
            constructor(p?: trove.v1.PackageInfo.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** PackageInfo name. */
            name: string;

            /** PackageInfo arch. */
            arch: string;

            /** PackageInfo version. */
            version: string;

            /** PackageInfo revision. */
            revision: number;

            /** PackageInfo depends. */
            depends: string[];

            /** PackageInfo preDepends. */
            preDepends: string[];

            /** PackageInfo provides. */
            provides: string[];

            /** PackageInfo multiArch. */
            multiArch: string;

            /**
             * Creates a new PackageInfo instance using the specified properties.
             * @param [properties] Properties to set
             * @returns PackageInfo instance
             */
            static create(properties: trove.v1.PackageInfo.$Shape): trove.v1.PackageInfo & trove.v1.PackageInfo.$Shape;
            static create(properties?: trove.v1.PackageInfo.$Properties): trove.v1.PackageInfo;

            /**
             * Encodes the specified PackageInfo message. Does not implicitly {@link trove.v1.PackageInfo.verify|verify} messages.
             * @param m PackageInfo message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            static encode(m: trove.v1.PackageInfo.$Properties, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a PackageInfo message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns {trove.v1.PackageInfo & trove.v1.PackageInfo.$Shape} PackageInfo
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(r: ($protobuf.Reader|Uint8Array), l?: number): trove.v1.PackageInfo & trove.v1.PackageInfo.$Shape;

            /**
             * Gets the type url for PackageInfo
             * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns The type url
             */
            static getTypeUrl(prefix?: string): string;
        }

        namespace PackageInfo {

            /** Properties of a PackageInfo. */
            interface $Properties {

                /** PackageInfo name */
                name?: (string|null);

                /** PackageInfo arch */
                arch?: (string|null);

                /** PackageInfo version */
                version?: (string|null);

                /** PackageInfo revision */
                revision?: (number|null);

                /** PackageInfo depends */
                depends?: (string[]|null);

                /** PackageInfo preDepends */
                preDepends?: (string[]|null);

                /** PackageInfo provides */
                provides?: (string[]|null);

                /** PackageInfo multiArch */
                multiArch?: (string|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a PackageInfo. */
            type $Shape = trove.v1.PackageInfo.$Properties;
        }

        /**
         * Properties of a GenerationPackage.
         * @deprecated Use trove.v1.GenerationPackage.$Properties instead.
         */
        interface IGenerationPackage extends trove.v1.GenerationPackage.$Properties {
        }

        /** Represents a GenerationPackage. */
        class GenerationPackage {

            /**
             * Constructs a new GenerationPackage.
             * @param [p] Properties to set
             */
            constructor(p?: trove.v1.GenerationPackage.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** GenerationPackage name. */
            name: string;

            /** GenerationPackage arch. */
            arch: string;

            /** GenerationPackage version. */
            version: string;

            /** GenerationPackage revision. */
            revision: number;

            /** GenerationPackage commit. */
            commit: Uint8Array;

            /** GenerationPackage priority. */
            priority: number;

            /** GenerationPackage dependency. */
            dependency: boolean;

            /**
             * Creates a new GenerationPackage instance using the specified properties.
             * @param [properties] Properties to set
             * @returns GenerationPackage instance
             */
            static create(properties: trove.v1.GenerationPackage.$Shape): trove.v1.GenerationPackage & trove.v1.GenerationPackage.$Shape;
            static create(properties?: trove.v1.GenerationPackage.$Properties): trove.v1.GenerationPackage;

            /**
             * Encodes the specified GenerationPackage message. Does not implicitly {@link trove.v1.GenerationPackage.verify|verify} messages.
             * @param m GenerationPackage message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            static encode(m: trove.v1.GenerationPackage.$Properties, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a GenerationPackage message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns {trove.v1.GenerationPackage & trove.v1.GenerationPackage.$Shape} GenerationPackage
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(r: ($protobuf.Reader|Uint8Array), l?: number): trove.v1.GenerationPackage & trove.v1.GenerationPackage.$Shape;

            /**
             * Gets the type url for GenerationPackage
             * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns The type url
             */
            static getTypeUrl(prefix?: string): string;
        }

        namespace GenerationPackage {

            /** Properties of a GenerationPackage. */
            interface $Properties {

                /** GenerationPackage name */
                name?: (string|null);

                /** GenerationPackage arch */
                arch?: (string|null);

                /** GenerationPackage version */
                version?: (string|null);

                /** GenerationPackage revision */
                revision?: (number|null);

                /** GenerationPackage commit */
                commit?: (Uint8Array|null);

                /** GenerationPackage priority */
                priority?: (number|null);

                /** GenerationPackage dependency */
                dependency?: (boolean|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a GenerationPackage. */
            type $Shape = trove.v1.GenerationPackage.$Properties;
        }

        /**
         * Properties of a Conflict.
         * @deprecated Use trove.v1.Conflict.$Properties instead.
         */
        interface IConflict extends trove.v1.Conflict.$Properties {
        }

        /** Represents a Conflict. */
        class Conflict {

            /**
             * Constructs a new Conflict.
             * @param [p] Properties to set
             */
            constructor(p?: trove.v1.Conflict.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** Conflict path. */
            path: string;

            /** Conflict winner. */
            winner: string;

            /** Conflict losers. */
            losers: string[];

            /**
             * Creates a new Conflict instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Conflict instance
             */
            static create(properties: trove.v1.Conflict.$Shape): trove.v1.Conflict & trove.v1.Conflict.$Shape;
            static create(properties?: trove.v1.Conflict.$Properties): trove.v1.Conflict;

            /**
             * Encodes the specified Conflict message. Does not implicitly {@link trove.v1.Conflict.verify|verify} messages.
             * @param m Conflict message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            static encode(m: trove.v1.Conflict.$Properties, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Conflict message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns {trove.v1.Conflict & trove.v1.Conflict.$Shape} Conflict
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(r: ($protobuf.Reader|Uint8Array), l?: number): trove.v1.Conflict & trove.v1.Conflict.$Shape;

            /**
             * Gets the type url for Conflict
             * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns The type url
             */
            static getTypeUrl(prefix?: string): string;
        }

        namespace Conflict {

            /** Properties of a Conflict. */
            interface $Properties {

                /** Conflict path */
                path?: (string|null);

                /** Conflict winner */
                winner?: (string|null);

                /** Conflict losers */
                losers?: (string[]|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a Conflict. */
            type $Shape = trove.v1.Conflict.$Properties;
        }

        /**
         * Properties of a GenerationInfo.
         * @deprecated Use trove.v1.GenerationInfo.$Properties instead.
         */
        interface IGenerationInfo extends trove.v1.GenerationInfo.$Properties {
        }

        /** Represents a GenerationInfo. */
        class GenerationInfo {

            /**
             * Constructs a new GenerationInfo.
             * @param [p] Properties to set
             */
            constructor(p?: trove.v1.GenerationInfo.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** GenerationInfo profile. */
            profile: string;

            /** GenerationInfo packages. */
            packages: trove.v1.GenerationPackage.$Properties[];

            /** GenerationInfo conflicts. */
            conflicts: trove.v1.Conflict.$Properties[];

            /**
             * Creates a new GenerationInfo instance using the specified properties.
             * @param [properties] Properties to set
             * @returns GenerationInfo instance
             */
            static create(properties: trove.v1.GenerationInfo.$Shape): trove.v1.GenerationInfo & trove.v1.GenerationInfo.$Shape;
            static create(properties?: trove.v1.GenerationInfo.$Properties): trove.v1.GenerationInfo;

            /**
             * Encodes the specified GenerationInfo message. Does not implicitly {@link trove.v1.GenerationInfo.verify|verify} messages.
             * @param m GenerationInfo message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            static encode(m: trove.v1.GenerationInfo.$Properties, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a GenerationInfo message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns {trove.v1.GenerationInfo & trove.v1.GenerationInfo.$Shape} GenerationInfo
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(r: ($protobuf.Reader|Uint8Array), l?: number): trove.v1.GenerationInfo & trove.v1.GenerationInfo.$Shape;

            /**
             * Gets the type url for GenerationInfo
             * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns The type url
             */
            static getTypeUrl(prefix?: string): string;
        }

        namespace GenerationInfo {

            /** Properties of a GenerationInfo. */
            interface $Properties {

                /** GenerationInfo profile */
                profile?: (string|null);

                /** GenerationInfo packages */
                packages?: (trove.v1.GenerationPackage.$Properties[]|null);

                /** GenerationInfo conflicts */
                conflicts?: (trove.v1.Conflict.$Properties[]|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a GenerationInfo. */
            type $Shape = trove.v1.GenerationInfo.$Properties;
        }

        /**
         * Properties of a Commit.
         * @deprecated Use trove.v1.Commit.$Properties instead.
         */
        interface ICommit extends trove.v1.Commit.$Properties {
        }

        /** Represents a Commit. */
        class Commit {

            /**
             * Constructs a new Commit.
             * @param [p] Properties to set
             */
            constructor(p?: trove.v1.Commit.$Properties);

            /** Unknown fields preserved while decoding when enabled */
            $unknowns?: Uint8Array[];

            /** Commit tree. */
            tree: Uint8Array;

            /** Commit root. */
            root?: (trove.v1.DirMeta.$Properties|null);

            /** Commit parents. */
            parents: Uint8Array[];

            /** Commit subject. */
            subject: string;

            /** Commit body. */
            body: string;

            /** Commit timestamp. */
            timestamp: number;

            /** Commit metadata. */
            metadata: trove.v1.KeyValue.$Properties[];

            /** Commit package. */
            package?: (trove.v1.PackageInfo.$Properties|null);

            /** Commit generation. */
            generation?: (trove.v1.GenerationInfo.$Properties|null);

            /**
             * Creates a new Commit instance using the specified properties.
             * @param [properties] Properties to set
             * @returns Commit instance
             */
            static create(properties: trove.v1.Commit.$Shape): trove.v1.Commit & trove.v1.Commit.$Shape;
            static create(properties?: trove.v1.Commit.$Properties): trove.v1.Commit;

            /**
             * Encodes the specified Commit message. Does not implicitly {@link trove.v1.Commit.verify|verify} messages.
             * @param m Commit message or plain object to encode
             * @param [w] Writer to encode to
             * @returns Writer
             */
            static encode(m: trove.v1.Commit.$Properties, w?: $protobuf.Writer): $protobuf.Writer;

            /**
             * Decodes a Commit message from the specified reader or buffer.
             * @param r Reader or buffer to decode from
             * @param [l] Message length if known beforehand
             * @returns {trove.v1.Commit & trove.v1.Commit.$Shape} Commit
             * @throws {Error} If the payload is not a reader or valid buffer
             * @throws {$protobuf.util.ProtocolError} If required fields are missing
             */
            static decode(r: ($protobuf.Reader|Uint8Array), l?: number): trove.v1.Commit & trove.v1.Commit.$Shape;

            /**
             * Gets the type url for Commit
             * @param [prefix] Custom type url prefix, defaults to `"type.googleapis.com"`
             * @returns The type url
             */
            static getTypeUrl(prefix?: string): string;
        }

        namespace Commit {

            /** Properties of a Commit. */
            interface $Properties {

                /** Commit tree */
                tree?: (Uint8Array|null);

                /** Commit root */
                root?: (trove.v1.DirMeta.$Properties|null);

                /** Commit parents */
                parents?: (Uint8Array[]|null);

                /** Commit subject */
                subject?: (string|null);

                /** Commit body */
                body?: (string|null);

                /** Commit timestamp */
                timestamp?: (number|null);

                /** Commit metadata */
                metadata?: (trove.v1.KeyValue.$Properties[]|null);

                /** Commit package */
                "package"?: (trove.v1.PackageInfo.$Properties|null);

                /** Commit generation */
                generation?: (trove.v1.GenerationInfo.$Properties|null);

                /** Unknown fields preserved while decoding when enabled */
                $unknowns?: Uint8Array[];
            }

            /** Shape of a Commit. */
            type $Shape = trove.v1.Commit.$Properties;
        }
    }
}
